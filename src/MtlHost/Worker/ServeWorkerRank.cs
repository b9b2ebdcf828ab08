using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MtlHost.Cli;
using MtlHost.Commands;
using MtlHost.Core.Distributed;
using MtlHost.Hosting;

namespace MtlHost.Worker;

/// <summary>
/// <c>mpirun … serve</c> on a process other than rank 0: a worker of rank 0's run with no web server (no port, no dashboard,
/// no predictions). It reads the settings as serve does (serve's defaults: train until stopped, evaluate every 100 steps,
/// checkpoint every 200), so that every process takes the same steps, evaluations and collectives, and follows rank 0's
/// controls at every step boundary (<see cref="ControlFollower"/>). It stops with rank 0 (or on its own SIGTERM, which
/// stops every process after the same step).
/// </summary>
public static class ServeWorkerRank
{
    /// <summary>Trains as a worker of rank 0's service until the run ends.</summary>
    /// <param name="command">The <c>serve</c> command line, the same as rank 0's.</param>
    /// <param name="group">The processes; this one is not rank 0.</param>
    /// <param name="output">Standard output (a worker prints no results: rank 0 speaks for the run).</param>
    /// <param name="cancellationToken">This process's stop (SIGTERM, Ctrl-C).</param>
    /// <returns>The exit code: 0, or 1 when the run failed.</returns>
    /// <exception cref="UsageException">A setting is not valid.</exception>
    public static int Run(ParsedCommand command, IProcessGroup group, TextWriter output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(group);
        if (group.IsRoot)
        {
            throw new ArgumentException("Rank 0 runs the service (ServeHost), not a worker.", nameof(group));
        }
        using var host = HostFactory.Build(command, ServeHost.Defaults);
        var loggers = host.Services.GetRequiredService<ILoggerFactory>();
        // Before any torch work, as on rank 0.
        TorchThreads.Apply(TorchThreads.Read(host.Services.GetRequiredService<IConfiguration>()), loggers.CreateLogger("MtlHost.Threads"));
        var train = host.Services.GetRequiredService<TrainCommand>();
        var run = train.CreateRun();
        new ControlFollower(TrainingControl.PausedPoll, loggers.CreateLogger<ControlFollower>()).Attach(run, cancellationToken);
        return train.Report(run.Run(group, cancellationToken), output);
    }
}
