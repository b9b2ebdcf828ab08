using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MtlHost.Cli;
using MtlHost.Core.Distributed;
using MtlHost.Dashboard;
using MtlHost.Inference;
using MtlHost.Hosting;

namespace MtlHost.Worker;

/// <summary>
/// <c>mtlhost serve</c>: one web host (ASP.NET Core, systemd-aware) that trains continuously over the plugins folder with
/// hot reload (<see cref="TrainingWorker"/>) and serves the dashboard and its API. Every setting is read and checked
/// before anything listens, so a bad one stops start-up with one message and exit code 2. Under <c>mpirun</c> it is rank 0's:
/// the other processes train as its workers with no web server (<see cref="ServeWorkerRank"/>).
/// </summary>
public sealed class ServeHost : IAsyncDisposable
{
    /// <summary>
    /// What serve does unless configured otherwise (every other configuration layer overrides these): train until stopped,
    /// evaluate every 100 steps so the dashboard has metric curves, and write a resumable checkpoint every 200 steps so a
    /// crash loses at most that much (a graceful stop writes one anyway).
    /// </summary>
    public static IReadOnlyDictionary<string, string?> Defaults { get; } = new Dictionary<string, string?>
    {
        ["Training:Continuous"] = "true",
        ["Training:EvalEvery"] = "100",
        ["Training:CheckpointEvery"] = "200",
    };

    private readonly WebApplication _app;
    private readonly ServeSession _session;
    private readonly ServeOptions _options;

    private ServeHost(WebApplication app, ServeSession session, ServeOptions options)
    {
        _app = app;
        _session = session;
        _options = options;
    }

    /// <summary>Builds the service from a parsed <c>serve</c> command line; nothing runs yet.</summary>
    /// <param name="command">The command line.</param>
    /// <param name="output">Standard output: the run's summary at its end.</param>
    /// <param name="error">Standard error.</param>
    /// <returns>The service.</returns>
    /// <exception cref="UsageException">A setting is not valid.</exception>
    public static ServeHost Create(ParsedCommand command, TextWriter output, TextWriter error) =>
        Create(command, output, error, ProcessGroups.Detect());

    /// <summary>Builds the service of rank 0 of <paramref name="group"/> (or of a process alone); nothing runs yet.</summary>
    /// <param name="command">The command line.</param>
    /// <param name="output">Standard output: the run's summary at its end.</param>
    /// <param name="error">Standard error.</param>
    /// <param name="group">The processes training together; the run disposes it at its normal end.</param>
    /// <returns>The service.</returns>
    /// <exception cref="UsageException">A setting is not valid.</exception>
    /// <exception cref="ArgumentException">This process is not rank 0: only rank 0 serves.</exception>
    public static ServeHost Create(ParsedCommand command, TextWriter output, TextWriter error, IProcessGroup group)
    {
        ArgumentNullException.ThrowIfNull(group);
        if (!group.IsRoot)
        {
            throw new ArgumentException($"Rank {group.Rank} serves nothing: rank 0 alone runs the web server (see ServeWorkerRank).", nameof(group));
        }
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory, Args = [] });
        HostFactory.Configure(builder, command, Defaults);

        var settings = HostSettings.Read(builder.Configuration);
        var threads = TorchThreads.Read(builder.Configuration);
        if (!Directory.Exists(settings.PluginsDirectory))
        {
            throw new UsageException($"Plugins folder '{settings.PluginsDirectory}' does not exist; create it and put a plugin in, " +
                                     "or pass --plugins DIR (Plugins:Directory).");
        }
        // Without --out the run folder is named after the time it is read: pin it, so the worker and the run agree on it.
        builder.Configuration.AddInMemoryCollection([new("Run:Out", settings.OutDirectory)]);
        var options = ServeOptions.Read(builder.Configuration);
        var dashboard = DashboardOptions.Read(builder.Configuration);

        ServeWebHost.Configure(builder, options);
        var session = new ServeSession(output, error);
        builder.Services.AddSingleton(session);
        builder.Services.AddSingleton(group);
        builder.Services.AddSingleton(dashboard);
        builder.Services.AddSingleton<RunMonitor>();
        builder.Services.AddSingleton<TrainingControl>();
        builder.Services.AddSingleton(services => new CheckpointPredictions(settings.PluginsDirectory,
            new PredictionBatcherOptions(), services.GetRequiredService<ILogger<CheckpointPredictions>>()));
        builder.Services.AddHostedService<TrainingWorker>();

        var app = builder.Build();
        // Before the training thread and the predictor start torch work: they take this count.
        TorchThreads.Apply(threads, app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("MtlHost.Threads"));
        app.MapDashboard(dashboard);
        return new ServeHost(app, session, options);
    }

    /// <summary>The addresses the service listens on, with the real port when port 0 was asked for; known once started.</summary>
    public IReadOnlyList<string> Urls => [.. _app.Urls];

    /// <summary>The exit code the run leaves: 0 (also after a graceful stop), 1 when it failed, 2 for bad input.</summary>
    public int ExitCode => _session.ExitCode;

    /// <summary>The application's services (the monitor, the control), for tests and embedding.</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>Starts listening and training.</summary>
    /// <param name="cancellationToken">Abandons the start.</param>
    /// <returns>A task that completes once the service listens.</returns>
    /// <exception cref="UsageException">An address cannot be listened on.</exception>
    public Task StartAsync(CancellationToken cancellationToken = default) => ServeWebHost.StartAsync(_app, _options, cancellationToken);

    /// <summary>Stops gracefully: the run finishes its step, evaluates and writes its checkpoint; then the server stops.</summary>
    /// <returns>A task that completes once everything stopped.</returns>
    public Task StopAsync() => _app.StopAsync();

    /// <summary>Runs until the service is stopped (SIGTERM, Ctrl-C, systemd, <paramref name="cancellationToken"/>) or the run fails.</summary>
    /// <param name="cancellationToken">Stops the service gracefully.</param>
    /// <returns>The exit code.</returns>
    /// <exception cref="UsageException">An address cannot be listened on.</exception>
    public int Run(CancellationToken cancellationToken)
    {
        StartAsync(CancellationToken.None).GetAwaiter().GetResult();
        _app.Logger.LogInformation("Dashboard: {Urls} (GET /api/status, GET /api/metrics); stop with Ctrl-C or SIGTERM", string.Join(" ", Urls.Select(u => u + "/")));
        _app.WaitForShutdownAsync(cancellationToken).GetAwaiter().GetResult();
        return ExitCode;
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _app.DisposeAsync();
}
