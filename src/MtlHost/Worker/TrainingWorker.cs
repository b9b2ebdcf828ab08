using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MtlHost.Abstractions.Messages;
using MtlHost.Cli;
using MtlHost.Core.Distributed;
using MtlHost.Hosting;
using MtlHost.Observers;
using MtlHost.Runs;

namespace MtlHost.Worker;

/// <summary>
/// The training run of <c>mtlhost serve</c>: a <see cref="TrainingRun"/> with hot reload, on a thread of its own for the life of
/// the service, joined to the dashboard by <see cref="TrainingControl"/> and <see cref="RunMonitor"/>. When the service
/// stops (SIGTERM, Ctrl-C, systemd) the run finishes its step, evaluates, writes its checkpoint and summary, and the
/// process exits 0. A run that fails stops the service with exit code 1; bad input, 2. Under <c>mpirun</c> this is rank 0's
/// run, whose steps, stop and controls every other process follows.
/// </summary>
public sealed class TrainingWorker : BackgroundService
{
    private readonly ParsedCommand _command;
    private readonly TrainingControl _control;
    private readonly RunMonitor _monitor;
    private readonly CheckpointPredictions _predictions;
    private readonly ServeSession _session;
    private readonly IConfiguration _configuration;
    private readonly IProcessGroup _group;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger _logger;
    private readonly ILogger _runLogger;

    /// <summary>Creates the worker.</summary>
    /// <param name="command">The command line (<c>serve</c> and its options).</param>
    /// <param name="control">Pause, checkpoint and task removal requests.</param>
    /// <param name="monitor">What the dashboard shows.</param>
    /// <param name="predictions">Keeps <c>POST /api/predict</c> on the newest checkpoint.</param>
    /// <param name="session">The console and the exit code.</param>
    /// <param name="configuration">The layered configuration.</param>
    /// <param name="group">The processes training together (this one alone, or rank 0 of several).</param>
    /// <param name="lifetime">Stopped when the run fails.</param>
    /// <param name="loggerFactory">Logging.</param>
    public TrainingWorker(ParsedCommand command, TrainingControl control, RunMonitor monitor, CheckpointPredictions predictions, ServeSession session,
        IConfiguration configuration, IProcessGroup group, IHostApplicationLifetime lifetime, ILoggerFactory loggerFactory)
    {
        _command = command;
        _control = control;
        _monitor = monitor;
        _predictions = predictions;
        _session = session;
        _configuration = configuration;
        _group = group;
        _lifetime = lifetime;
        _logger = loggerFactory.CreateLogger<TrainingWorker>();
        // The run logs under the category train's run does, so a service's log reads like a train log.
        _runLogger = loggerFactory.CreateLogger("MtlHost.Train");
    }

    /// <inheritdoc />
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        // Training holds its thread for days and never awaits: a thread of its own, not one of the pool's.
        Task.Factory.StartNew(() => Train(stoppingToken), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <inheritdoc />
    public override Task StopAsync(CancellationToken cancellationToken)
    {
        if (ExecuteTask is { IsCompleted: false })
        {
            _monitor.Stopping();
            _logger.LogInformation("Stopping: finishing the step, evaluating and writing the checkpoint");
        }
        return base.StopAsync(cancellationToken);
    }

    private void Train(CancellationToken stopping)
    {
        string? error = null;
        string? checkpoint = null;
        try
        {
            var settings = HostSettings.Read(_configuration);
            var json = _command.Has("json");
            var run = new TrainingRun(settings, new TrainingRunOptions
            {
                Watch = true,
                SingleTask = _command.Has("single-task"),
                ShowProgress = ConsoleProgress.IsWanted(json),
            }, _runLogger);
            _control.Attach(run, settings.Training.StepBudget, stopping);
            run.Started += context =>
            {
                // A restarted service answers predictions from the checkpoint it resumed from, not only from its next one.
                if (context.ResumedFrom is not null)
                {
                    _predictions.CheckpointWritten(context.ResumedFrom);
                }
            };
            run.CheckpointWritten += (folder, _) =>
            {
                // The checkpoint written at shutdown would only be loaded to be thrown away, and delay the stop.
                if (!stopping.IsCancellationRequested)
                {
                    _predictions.CheckpointWritten(folder);
                }
            };
            var result = run.Run(_group, stopping);
            if (result.Summary is { } summary)
            {
                SummaryTable.Print(_session.Output, summary, json);
                checkpoint = result.Checkpoint;
                if (!stopping.IsCancellationRequested)
                {
                    _logger.LogInformation("Training finished at its step budget; the dashboard keeps serving until the service stops");
                }
            }
            else
            {
                error = "the run failed: every task was quarantined (see the plugins and the event log)";
                Fail(MtlHostApplication.RunFailed, error);
            }
        }
        catch (UsageException e)
        {
            error = e.Message;
            _session.Error.WriteLine($"mtlhost: {e.Message}");
            Fail(MtlHostApplication.BadInput, null);
        }
        catch (Exception e)
        {
            error = ExceptionChain.Describe(e);
            _logger.LogError(e, "The training run failed");
            _session.Error.WriteLine($"mtlhost: the run failed: {error}");
            Fail(MtlHostApplication.RunFailed, null);
        }
        finally
        {
            _control.Ended();
            _monitor.Ended(checkpoint, error);
        }
    }

    private void Fail(int exitCode, string? message)
    {
        if (message is not null)
        {
            _logger.LogError("{Message}", message);
        }
        _session.ExitCode = exitCode;
        _lifetime.StopApplication();
    }
}
