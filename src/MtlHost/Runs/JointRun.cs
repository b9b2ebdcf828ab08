using System.Text.Json;
using Microsoft.Extensions.Logging;
using MtlHost.Cli;
using MtlHost.Core.Checkpoints;
using MtlHost.Core.Distributed;
using MtlHost.Core.Encoders;
using MtlHost.Core.Training;
using MtlHost.Formats;
using MtlHost.Hosting;
using MtlHost.HotReload;
using MtlHost.Observers;
using TorchSharp;

namespace MtlHost.Runs;

/// <summary>
/// One joint run of a set of tasks into one run folder: builds the encoder (from the latest complete checkpoint there,
/// if any), trains, keeps the best evaluation's model, writes resumable checkpoints, the final model in
/// <c>&lt;out&gt;/checkpoint</c> and <c>summary.json</c>.
/// </summary>
internal sealed class JointRun
{
    private readonly HostSettings _settings;
    private readonly string _outDirectory;
    private readonly torch.Device _device;
    private readonly int _padId;
    private readonly bool _showProgress;
    private readonly TrainingRun? _events;
    private readonly IProcessGroup _group;
    private readonly ILogger _logger;

    /// <summary>Creates the run.</summary>
    /// <param name="settings">The settings.</param>
    /// <param name="outDirectory">The run folder.</param>
    /// <param name="device">Where the model trains.</param>
    /// <param name="padId">The tokenizer's padding id.</param>
    /// <param name="showProgress">Whether a live progress bar replaces the periodic step lines.</param>
    /// <param name="events">The training run whose events this run raises, or <see langword="null"/> (single-task baselines).</param>
    /// <param name="group">
    /// The processes training together (<c>mpirun</c>); each trains on its shard of every batch, and rank 0 alone writes
    /// the run folder (checkpoints, summary, TensorBoard) and shows progress.
    /// </param>
    /// <param name="logger">Logging.</param>
    public JointRun(HostSettings settings, string outDirectory, torch.Device device, int padId, bool showProgress, TrainingRun? events,
        IProcessGroup group, ILogger logger)
    {
        _group = group;
        _settings = settings;
        _outDirectory = outDirectory;
        _device = device;
        _padId = padId;
        _showProgress = showProgress;
        _events = events;
        _logger = logger;
    }

    /// <summary>Trains the tasks to the end of the step budget, an early stop or <paramref name="cancellationToken"/>.</summary>
    /// <param name="runtimes">The tasks.</param>
    /// <param name="hotReload">The plugins folder's watcher, or <see langword="null"/>.</param>
    /// <param name="refused">Plugins and tasks that did not join, for the summary.</param>
    /// <param name="ended">Told the tasks the trainer ended with, whatever happens.</param>
    /// <param name="cancellationToken">Stops after the current step; results are still evaluated and saved.</param>
    /// <returns>The summary; <see langword="null"/> when the run failed (every task quarantined).</returns>
    /// <exception cref="UsageException">A checkpoint cannot be resumed, or the settings do not fit the encoder.</exception>
    public RunSummary? Train(IReadOnlyList<TaskRuntime> runtimes, HotReloadCoordinator? hotReload, IReadOnlyList<RunSummary.Refusal> refused,
        Action<IEnumerable<TaskRuntime>> ended, CancellationToken cancellationToken)
    {
        var settings = _settings;
        // A run folder that holds a checkpoint resumes from its latest complete one.
        var store = new CheckpointStore(_outDirectory, settings.Training.KeepCheckpoints, _logger);
        var recordedSettings = RunResume.SettingsToRecord(settings);
        var resume = store.FindLatest();
        if (resume is { } found)
        {
            RunResume.CheckSettings(found.Directory, found.Manifest, RunResume.SettingsToMatch(settings));
            RunResume.WarnIfStepBudgetChanged(found.Directory, found.Manifest, settings, _logger);
        }

        using var encoder = BuildEncoder(resume);
        var encoderLearningRate = settings.Training.EncoderLearningRate ?? EncoderCatalog.DefaultLearningRate(settings.Encoder);
        var strategies = settings.CreateStrategies();
        // On a terminal a live bar replaces the periodic step lines; off one (CI, redirected, --json) those lines are the progress.
        var trainingOptions = _showProgress ? settings.Training with { LogEvery = 0 } : settings.Training;
        using var trainer = new JointTrainer(encoder, runtimes, strategies.Sampler, trainingOptions, encoderLearningRate,
            _device, _padId, _logger, strategies.Weighting, strategies.Sharing, strategies.Groups.BranchOf);
        using var tensorBoard = _group.IsRoot ? new TensorBoardLogger(_outDirectory, trainer, _logger) : null;
        using var progress = _showProgress && _group.IsRoot ? new ConsoleProgress(Console.Error, trainer, ConsoleProgress.TerminalWidth) : null;
        _logger.LogInformation("Sampler {Sampler}, weighting {Weighting}, sharing {Sharing} ({Parameters:N0} task-specific encoder parameters in {Branches} branch(es))",
            strategies.Sampler.Name, strategies.Weighting.Name, strategies.Sharing.Name,
            trainer.Branches.Sum(b => b.ParameterCount), trainer.Branches.Count);

        var selection = new ModelSelection(settings.Baselines, settings.Training.Patience);
        // Heads of tasks that left the run: the hot-reload coordinator's, or, without --watch, those of checkpointed tasks absent now.
        using var ownArchive = new HeadArchive();
        var archive = hotReload?.Archive ?? ownArchive;
        var lastCheckpointStep = -1;
        if (resume is { } start)
        {
            Restore(start, trainer, archive, selection);
            lastCheckpointStep = start.Manifest.Step;
        }
        JoinProcesses(trainer, resume?.Manifest.Step ?? 0);

        // The model as it is now, with the heads of tasks that left the run.
        CheckpointContent Model() => CheckpointContent.Of(trainer, settings.Encoder, settings.Training) with { RemovedHeads = archive.Heads.ToList() };

        var best = Path.Combine(_outDirectory, "best");
        bool AfterEvaluation(int step, IReadOnlyList<TaskScores> scores)
        {
            // Every process evaluates the same model on the whole validation split, so they agree on the best and on stopping.
            if (selection.Observe(step, scores) && _group.IsRoot)
            {
                CheckpointWriter.Write(best, Model() with { Step = step, Scores = scores.ToDictionary(s => s.TaskId) });
                _logger.LogInformation("Step {Step}: best {Measure} so far, {Score:F4}; wrote {Checkpoint}", step, selection.Measure,
                    selection.Tracker.Best, best);
            }
            return selection.Tracker.ShouldStop;
        }

        // A resumable checkpoint of the run as it is now, in <out>/checkpoints/step-N; the oldest beyond --keep-checkpoints go.
        string WriteCheckpoint()
        {
            if (!_group.IsRoot)
            {
                lastCheckpointStep = trainer.Step;
                return store.Root;
            }
            var state = new CheckpointTrainingState(trainer.Optimizers, recordedSettings, new CheckpointManifest.SelectionEntry(selection.Tracker.Best,
                selection.Tracker.BestStep, selection.Tracker.EvaluationsSinceBest));
            var folder = store.Write(trainer.Step, directory => CheckpointWriter.Write(directory, Model() with { Training = state }));
            lastCheckpointStep = trainer.Step;
            _logger.LogInformation("Step {Step}: wrote checkpoint {Checkpoint}", trainer.Step, folder);
            _events?.OnCheckpointWritten(folder, trainer.Step);
            return folder;
        }

        TrainingReport report;
        try
        {
            if (hotReload is not null)
            {
                hotReload.Attach(trainer);
                _logger.LogInformation("Watching {Directory} for plugin changes (hot reload); shadow copies in {Shadow}",
                    settings.PluginsDirectory, hotReload.ShadowDirectory);
            }
            _events?.OnStarted(new TrainingRunContext(trainer, hotReload, _outDirectory, WriteCheckpoint, resume?.Directory, _group));
            // Across processes, only an agreed stop ends training (see BetweenSteps).
            using var stop = _group.Size == 1 ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken) : new CancellationTokenSource();
            void BetweenSteps()
            {
                // First, so that a plugin change that goes wrong cannot cost the steps since the last checkpoint.
                var every = settings.Training.CheckpointEvery;
                if (every > 0 && trainer.Step > 0 && trainer.Step % every == 0 && trainer.Step != lastCheckpointStep)
                {
                    WriteCheckpoint();
                }
                hotReload?.ApplyPendingChanges();
                _events?.OnBetweenSteps();
                // A stop (Ctrl-C, SIGTERM) reaches the processes at different moments: they stop together, after the step
                // that follows the first one to see it, so that none leaves the others waiting in that step's collectives.
                if (_group.Size > 1 && _group.AnyRank(cancellationToken.IsCancellationRequested))
                {
                    stop.Cancel();
                }
            }

            if (!settings.Training.HasStepsLeft(trainer.Step) || selection.Tracker.ShouldStop)
            {
                // The checkpointed run had finished (step budget, or early stop): evaluate and summarise only.
                _logger.LogInformation("The run in {Out} had already finished at step {Step}; evaluating only", _outDirectory, trainer.Step);
                stop.Cancel();
            }
            report = trainer.Train(BetweenSteps, AfterEvaluation, stop.Token);
        }
        catch (InvalidOperationException e)
        {
            _logger.LogError("{Message}", e.Message);
            // Nothing is left to train, but what was learned since the last checkpoint is kept.
            if (trainer.Step != lastCheckpointStep)
            {
                WriteCheckpoint();
            }
            return null;
        }
        finally
        {
            ended(trainer.Tasks);
        }

        VerifySameWeights(trainer);
        if (trainer.Step != lastCheckpointStep)
        {
            WriteCheckpoint();
        }
        // <out>/checkpoint stays the run's final model (what eval, predict and the summary point to); the resumable
        // state is in <out>/checkpoints.
        var checkpoint = Path.Combine(_outDirectory, "checkpoint");
        var latest = report.Tasks.Where(t => t.Validation is not null).ToDictionary(t => t.TaskId, t => t.Validation!);
        if (_group.IsRoot)
        {
            CheckpointWriter.Write(checkpoint, Model() with { Step = report.Steps, Scores = latest });
        }
        var summary = RunSummary.From(settings.Encoder, settings.Device, report, checkpoint, refused) with
        {
            Sampler = strategies.Sampler.Name,
            Weighting = strategies.Weighting.Name,
            Sharing = strategies.Sharing.Name,
            Best = selection.Tracker.BestStep < 0 ? null : new RunSummary.BestEvaluation(selection.Tracker.BestStep, selection.Measure, selection.Tracker.Best, best),
            HotReload = hotReload is null ? null : HotReloadSummary.Of(hotReload.Status),
        };
        if (_group.IsRoot)
        {
            Directory.CreateDirectory(_outDirectory);
            File.WriteAllText(Path.Combine(_outDirectory, "summary.json"), JsonSerializer.Serialize(summary, HostJson.Options));
            _logger.LogInformation("Wrote checkpoint {Checkpoint}", checkpoint);
        }
        return summary;
    }

    // With several processes: they must resume from the same step (each reads the run folder, so it must be shared), then
    // rank 0's weights become everyone's and the trainer averages losses and gradients from now on.
    private void JoinProcesses(JointTrainer trainer, int resumedStep)
    {
        if (_group.Size == 1)
        {
            return;
        }
        var steps = _group.ReduceScalars([resumedStep, (double)resumedStep * resumedStep]);
        if (Math.Abs(steps[1] - steps[0] * steps[0]) > 1e-6)
        {
            throw new UsageException($"the {_group.Size} processes found different checkpoints to resume from in '{_outDirectory}' (this one: step " +
                                     $"{resumedStep}); every process reads the run folder, so --out must be on a file system they all share.");
        }
        try
        {
            trainer.TrainWith(_group, _settings.Distributed.BucketBytes);
        }
        catch (InvalidOperationException e)
        {
            throw new UsageException(e.Message);
        }
        _logger.LogInformation("Training on {Processes} processes (rank {Rank}): each step every process trains its shard of the same tasks' batches " +
                               "(--batch-size {BatchSize} each, {Total} in all)", _group.Size, _group.Rank, _settings.Training.BatchSize,
            _settings.Training.BatchSize * _group.Size);
    }

    // With several processes: every one must end with the model rank 0 saves, bit for bit; a difference is a bug of the
    // data parallelism (a decision one process took alone), reported on every process rather than saved unnoticed.
    private void VerifySameWeights(JointTrainer trainer)
    {
        if (_group.Size == 1)
        {
            return;
        }
        var mine = ModelFingerprint.Of(trainer);
        var root = BitConverter.ToUInt64(_group.BroadcastBytes(_group.IsRoot ? BitConverter.GetBytes(mine) : null));
        if (_group.AnyRank(mine != root))
        {
            throw new InvalidOperationException($"the {_group.Size} processes ended with different weights (rank {_group.Rank}: {mine:x16}, " +
                                                $"rank 0: {root:x16}); this is a bug of data-parallel training: please report it with the run's log.");
        }
        _logger.LogInformation("The {Processes} processes ended with the same weights (fingerprint {Fingerprint:x16})", _group.Size, mine);
    }

    // The encoder the run starts from: pretrained (or random), or the one of the checkpoint it resumes, frozen as asked, on the device.
    private BertEncoder BuildEncoder((string Directory, CheckpointManifest Manifest)? resume)
    {
        _logger.LogInformation("Building encoder {Encoder} on {Device}", _settings.Encoder, _settings.Device);
        torch.manual_seed(_settings.Training.Seed);
        var encoder = EncoderCatalog.Create(_settings.Encoder, _settings.Training.Seed, _settings.Training.AttentionDropout,
            _settings.Training.HiddenDropout);
        try
        {
            if (resume is { } from)
            {
                // Before the trainer is built: a branch made from the encoder must copy the trained one.
                try
                {
                    encoder.load(Path.Combine(from.Directory, from.Manifest.Encoder.File));
                }
                catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or EndOfStreamException)
                {
                    throw new UsageException($"checkpoint '{from.Directory}' is complete but its encoder cannot be read: {e.Message} " +
                                             "Move that folder out of the checkpoints folder to resume from the one before it, or use a new --out.");
                }
            }
            Freeze(encoder, _settings.Training);
            encoder.to(_device);
            return encoder;
        }
        catch
        {
            encoder.Dispose();
            throw;
        }
    }

    private void Restore((string Directory, CheckpointManifest Manifest) start, JointTrainer trainer, HeadArchive archive, ModelSelection selection)
    {
        try
        {
            RunResume.Restore(start.Directory, start.Manifest, trainer, archive, selection.Tracker, _logger);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or FormatException or ArgumentException or EndOfStreamException)
        {
            throw new UsageException($"checkpoint '{start.Directory}' is complete but cannot be restored: {e.Message} " +
                                     "Move that folder out of the checkpoints folder to resume from the one before it, or use a new --out.");
        }
        _logger.LogInformation("Resuming from {Checkpoint}: step {Step}/{Steps}, tasks {Tasks}", start.Directory, trainer.Step,
            _settings.Training.StepBudgetText, string.Join(", ", trainer.Tasks.Select(t => $"{t.Id} v{t.Descriptor.Version} ({t.StepsTrained} steps)")));
    }

    private static void Freeze(BertEncoder encoder, TrainingOptions options)
    {
        if (options.FreezeEncoder)
        {
            foreach (var parameter in encoder.parameters())
            {
                parameter.requires_grad = false;
            }
        }
        else if (options.FreezeLayers > 0)
        {
            if (options.FreezeLayers > encoder.Config.LayerCount)
            {
                throw new UsageException($"--freeze-layers {options.FreezeLayers}: the encoder has only {encoder.Config.LayerCount} layers.");
            }
            encoder.FreezeBottom(options.FreezeLayers);
        }
    }
}
