using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using MtlHost.Cli;
using MtlHost.Hosting;
using MtlHost.Observers;
using MtlHost.Runs;

namespace MtlHost.Commands;

/// <summary>
/// <c>mtlhost train</c>: one <see cref="TrainingRun"/> of the plugins folder, its summary printed as a table or JSON.
/// With <c>--watch</c> the run applies plugin changes between steps; with <c>--single-task</c> it trains each task
/// alone instead and stores the results as baselines.
/// </summary>
public sealed class TrainCommand
{
    private readonly IConfiguration _configuration;
    private readonly ParsedCommand _command;
    private readonly ILogger _logger;

    /// <summary>Creates the command.</summary>
    /// <param name="configuration">Layered configuration.</param>
    /// <param name="command">The parsed command line.</param>
    /// <param name="loggerFactory">Logging.</param>
    public TrainCommand(IConfiguration configuration, ParsedCommand command, ILoggerFactory loggerFactory)
    {
        _configuration = configuration;
        _command = command;
        _logger = loggerFactory.CreateLogger("MtlHost.Train");
    }

    /// <summary>Creates the training run the command line asks for.</summary>
    /// <returns>The run, not started.</returns>
    /// <exception cref="UsageException">Bad options.</exception>
    public TrainingRun CreateRun() => new(HostSettings.Read(_configuration), new TrainingRunOptions
    {
        Watch = _command.Has("watch") || _command.Verb == "serve",
        SingleTask = _command.Has("single-task"),
        ShowProgress = ConsoleProgress.IsWanted(_command.Has("json")),
    }, _logger);

    /// <summary>Runs the command.</summary>
    /// <param name="output">Where results go (standard output).</param>
    /// <param name="cancellationToken">Stops training after the current step; results are still evaluated and saved.</param>
    /// <returns>The exit code.</returns>
    /// <exception cref="UsageException">Bad options or bad input.</exception>
    public int Run(TextWriter output, CancellationToken cancellationToken) => Report(CreateRun().Run(cancellationToken), output);

    /// <summary>Prints how a run made by <see cref="CreateRun"/> ended, as the command line asks (table or JSON).</summary>
    /// <param name="result">The run's result.</param>
    /// <param name="output">Where results go (standard output).</param>
    /// <returns>The exit code: 0, or 1 when the run failed.</returns>
    public int Report(TrainingRunResult result, TextWriter output)
    {
        if (result.Summary is not { } summary)
        {
            return MtlHostApplication.RunFailed;
        }
        // Across processes (mpirun) rank 0 speaks for all of them.
        if (result.Rank == 0)
        {
            SummaryTable.Print(output, summary, _command.Has("json"));
        }
        return MtlHostApplication.Success;
    }
}
