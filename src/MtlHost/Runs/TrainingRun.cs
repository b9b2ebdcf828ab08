using Microsoft.Extensions.Logging;
using MtlHost.Abstractions;
using MtlHost.Cli;
using MtlHost.Abstractions.Messages;
using MtlHost.Core.Devices;
using MtlHost.Core.Distributed;
using MtlHost.Core.Encoders;
using MtlHost.Core.Tokenization;
using MtlHost.Core.Training;
using MtlHost.Hosting;
using MtlHost.Plugins;
using TorchSharp;

namespace MtlHost.Runs;

/// <summary>
/// A training run, whoever drives it (<c>train</c>, the <c>serve</c> worker, an MPI rank of either): loads the plugins folder,
/// prepares every task, trains them jointly on one shared encoder (or each alone, for baselines), and saves the
/// checkpoints, the final model and the summary in the run folder. A host joins it through its events, which are
/// raised on the training thread.
/// </summary>
public sealed class TrainingRun
{
    private readonly HostSettings _settings;
    private readonly TrainingRunOptions _options;
    private readonly ILogger _logger;

    /// <summary>Creates the run; nothing is loaded before <see cref="Run(CancellationToken)"/>.</summary>
    /// <param name="settings">The settings.</param>
    /// <param name="options">Watching, baselines and console.</param>
    /// <param name="logger">Logging.</param>
    /// <exception cref="UsageException">The options contradict each other.</exception>
    public TrainingRun(HostSettings settings, TrainingRunOptions options, ILogger logger)
    {
        if (options.SingleTask && options.Watch)
        {
            throw new UsageException("--single-task trains a fixed set of baselines and does not combine with --watch; drop one of them.");
        }
        _settings = settings;
        _options = options;
        _logger = logger;
    }

    /// <summary>Raised once the trainer is built, before the first step (of a joint run; baselines raise no events).</summary>
    public event Action<TrainingRunContext>? Started;

    /// <summary>
    /// Raised before every step, after pending plugin changes are applied: the safe point to pause, write a checkpoint
    /// or take a task out.
    /// </summary>
    public event Action? BetweenSteps;

    /// <summary>Raised after every resumable checkpoint (periodic, requested or final), with its folder and step.</summary>
    public event Action<string, int>? CheckpointWritten;

    /// <summary>Runs to the end of the step budget, an early stop or <paramref name="cancellationToken"/>.</summary>
    /// <param name="cancellationToken">Stops training after the current step; results are still evaluated and saved.</param>
    /// <returns>How the run ended.</returns>
    /// <exception cref="UsageException">Bad settings or bad input (no usable plugin, a checkpoint that cannot be resumed).</exception>
    public TrainingRunResult Run(CancellationToken cancellationToken) =>
        // Started by mpirun: one of several processes training together; otherwise alone, and nothing native is loaded.
        Run(ProcessGroups.Detect(), cancellationToken);

    /// <summary>
    /// Runs in <paramref name="group"/> (the one <see cref="ProcessGroups.Detect()"/> gave this process) to the end of the
    /// step budget, an early stop or <paramref name="cancellationToken"/>. With several processes every one of them calls
    /// this; the group is disposed at the normal end, and a failure on any process ends every process.
    /// </summary>
    /// <param name="group">The processes training together.</param>
    /// <param name="cancellationToken">Stops training after the current step; results are still evaluated and saved.</param>
    /// <returns>How the run ended.</returns>
    /// <exception cref="UsageException">Bad settings or bad input (no usable plugin, a checkpoint that cannot be resumed).</exception>
    public TrainingRunResult Run(IProcessGroup group, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(group);
        if (group.Size == 1)
        {
            return RunIn(group, _settings, _logger, cancellationToken);
        }
        try
        {
            // Without --out the run folder is named after the time each process reads it: rank 0's name is everyone's.
            var settings = _settings with { OutDirectory = group.BroadcastString(_settings.OutDirectory) };
            var result = RunIn(group, settings, group.IsRoot ? _logger : new WarningsOnlyLogger(_logger), cancellationToken) with { Rank = group.Rank };
            group.Dispose();
            return result;
        }
        catch (Exception e)
        {
            // A process that fails alone would leave the others waiting in a collective: every process ends now.
            var code = e is UsageException ? 2 : 1;
            Console.Error.WriteLine($"mtlhost (rank {group.Rank} of {group.Size}): {(e is UsageException ? e.Message : ExceptionChain.Describe(e))}");
            group.Abort(code);
            throw;
        }
    }

    private TrainingRunResult RunIn(IProcessGroup group, HostSettings settings, ILogger logger, CancellationToken cancellationToken)
    {
        torch.Device device;
        try
        {
            device = DeviceSelector.Resolve(settings.Device);
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message);
        }

        var encoderConfig = EncoderCatalog.ConfigOf(settings.Encoder);
        var headOptions = new HeadOptions(encoderConfig.HiddenSize, settings.Training.HiddenDropout ?? encoderConfig.HiddenDropout);
        var loader = new TaskPluginLoader(headOptions, logger);
        // Heads are built while tasks are prepared: the seed makes them the same from run to run.
        torch.manual_seed(settings.Training.Seed);
        var tokenizer = BertWordPieceTokenizer.FromVocabulary(MiniLmPackage.OpenVocabulary());
        var factory = new TaskRuntimeFactory(tokenizer, headOptions, device, settings.Training, logger);

        using var tasks = RunTasks.Load(settings, _options.Watch, loader, factory, logger, group);
        var summary = _options.SingleTask
            ? SingleTaskBaselines.Train(settings, tasks, device, tokenizer.PadId, _options.ShowProgress, group, logger, cancellationToken)
            : new JointRun(settings, settings.OutDirectory, device, tokenizer.PadId, _options.ShowProgress, this, group, logger)
                .Train(tasks.Runtimes, tasks.HotReload, tasks.Refused, tasks.Ended, cancellationToken);
        return new TrainingRunResult(summary);
    }

    internal void OnStarted(TrainingRunContext context) => Started?.Invoke(context);

    internal void OnBetweenSteps() => BetweenSteps?.Invoke();

    internal void OnCheckpointWritten(string folder, int step) => CheckpointWritten?.Invoke(folder, step);
}
