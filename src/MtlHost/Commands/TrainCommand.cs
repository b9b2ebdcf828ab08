using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using MtlHost.Abstractions;
using MtlHost.Abstractions.Messages;
using MtlHost.Cli;
using MtlHost.Core.Checkpoints;
using MtlHost.Core.Devices;
using MtlHost.Core.Encoders;
using MtlHost.Core.Sampling;
using MtlHost.Core.Tokenization;
using MtlHost.Core.Training;
using MtlHost.Evaluation;
using MtlHost.Hosting;
using MtlHost.Observers;
using MtlHost.HotReload;
using MtlHost.Plugins;
using TorchSharp;

namespace MtlHost.Commands;

/// <summary>
/// <c>mtlhost train</c>: loads the plugins folder, prepares every task, trains them jointly on one
/// shared encoder, evaluates, writes a checkpoint and prints per-task results. With <c>--watch</c>
/// it runs its step budget while watching the plugins folder, and applies plugin changes between steps;
/// with <c>--single-task</c> it trains each task alone instead and stores the results as baselines.
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

    /// <summary>Runs the command.</summary>
    /// <param name="output">Where results go (standard output).</param>
    /// <param name="cancellationToken">Stops training after the current step; results are still evaluated and saved.</param>
    /// <param name="hooks">Where a host joins the run (the worker service), or <see langword="null"/>.</param>
    /// <returns>The exit code.</returns>
    /// <exception cref="UsageException">Bad options or bad input.</exception>
    public int Run(TextWriter output, CancellationToken cancellationToken, RunHooks? hooks = null)
    {
        var settings = HostSettings.Read(_configuration);
        var watch = _command.Has("watch") || _command.Verb == "serve";
        var singleTask = _command.Has("single-task");
        if (singleTask && watch)
        {
            throw new UsageException("--single-task trains a fixed set of baselines and does not combine with --watch; drop one of them.");
        }
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
        var headOptions = new HeadOptions(encoderConfig.HiddenSize, encoderConfig.HiddenDropout);
        var loader = new TaskPluginLoader(headOptions, _logger);
        torch.manual_seed(settings.Training.Seed);
        var tokenizer = BertWordPieceTokenizer.FromVocabulary(MiniLmPackage.OpenVocabulary());
        var factory = new TaskRuntimeFactory(tokenizer, headOptions, device, settings.Training, _logger);

        PluginSet? plugins = null;
        HotReloadCoordinator? hotReload = null;
        var runtimes = new List<TaskRuntime>();
        var trained = new List<TaskRuntime>();
        var refused = new List<RunSummary.Refusal>();
        try
        {
            if (watch)
            {
                // The run folder keeps the plugins' status current, so 'plugins list --run DIR' can see a running trainer.
                var hotReloadOptions = HotReloadOptionsOf(_configuration) with
                {
                    StatusFile = Path.Combine(settings.OutDirectory, PluginStatusFile.FileName),
                };
                hotReload = new HotReloadCoordinator(settings.PluginsDirectory, loader, factory, hotReloadOptions, _logger);
                try
                {
                    runtimes.AddRange(hotReload.LoadInitial());
                }
                catch (PluginFolderException e)
                {
                    throw new UsageException(e.Message);
                }
                refused.AddRange(hotReload.Status.Plugins.Where(p => p.State == PluginRunState.Quarantined)
                    .Select(p => new RunSummary.Refusal(p.Name, null, p.Reason ?? "quarantined")));
                if (runtimes.Count == 0 && refused.Count == 0)
                {
                    throw new UsageException($"Plugins folder '{settings.PluginsDirectory}' holds no plugin; with --watch, start with at least one plugin that trains.");
                }
            }
            else
            {
                plugins = PluginSet.Load(loader, settings.PluginsDirectory);
                refused.AddRange(plugins.Result.Refused.Select(r => new RunSummary.Refusal(r.Name, null, r.Reason)));
                PrepareTasks(plugins, factory, runtimes, refused);
            }
            if (runtimes.Count == 0)
            {
                throw new UsageException("No task can train: " + string.Join("; ", refused.Select(r => $"{r.Plugin}{(r.Task is null ? "" : "/" + r.Task)}: {r.Reason}")));
            }

            RunSummary? summary;
            if (singleTask)
            {
                summary = TrainEachAlone(settings, runtimes, refused, device, tokenizer.PadId, trained, cancellationToken);
            }
            else
            {
                summary = TrainTogether(settings, runtimes, settings.OutDirectory, hotReload, refused, device, tokenizer.PadId, trained, cancellationToken, hooks);
            }
            if (summary is null)
            {
                return 1;
            }

            if (_command.Has("json"))
            {
                output.WriteLine(JsonSerializer.Serialize(summary, SummaryJson.Options));
            }
            else
            {
                SummaryTable.Write(output, summary);
            }
            return 0;
        }
        finally
        {
            // With hot reload the trained tasks are not the ones the run started with: dispose those it ended with too.
            foreach (var runtime in runtimes.Concat(trained).Distinct())
            {
                runtime.Dispose();
            }
            hotReload?.Dispose();
            plugins?.Dispose();
        }
    }

    // One joint run over the tasks: train, keep the best evaluation's checkpoint when asked, write the
    // final checkpoint and summary.json. Null when the run failed (every task quarantined).
    private RunSummary? TrainTogether(HostSettings settings, IReadOnlyList<TaskRuntime> runtimes, string outDirectory, HotReloadCoordinator? hotReload,
        IReadOnlyList<RunSummary.Refusal> refused, torch.Device device, int padId, List<TaskRuntime> trained, CancellationToken cancellationToken,
        RunHooks? hooks = null)
    {
        // A run folder that holds a checkpoint resumes from its latest complete one.
        var store = new CheckpointStore(outDirectory, settings.Training.KeepCheckpoints, _logger);
        var resumeSettings = RunResume.SettingsToMatch(settings);
        var recordedSettings = RunResume.SettingsToRecord(settings);
        var resume = store.FindLatest();
        if (resume is { } found)
        {
            RunResume.CheckSettings(found.Directory, found.Manifest, resumeSettings);
            RunResume.WarnIfStepBudgetChanged(found.Directory, found.Manifest, settings, _logger);
        }

        _logger.LogInformation("Building encoder {Encoder} on {Device}", settings.Encoder, settings.Device);
        torch.manual_seed(settings.Training.Seed);
        using var encoder = EncoderCatalog.Create(settings.Encoder, settings.Training.Seed, settings.Training.AttentionDropout);
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
        Freeze(encoder, settings.Training);
        encoder.to(device);
        var encoderLearningRate = settings.Training.EncoderLearningRate ?? EncoderCatalog.DefaultLearningRate(settings.Encoder);
        var strategies = settings.CreateStrategies();
        // On a terminal a live bar replaces the periodic step lines; off one (CI, redirected, --json) those lines are the progress.
        var showProgress = ConsoleProgress.IsWanted(_command.Has("json"));
        var trainingOptions = showProgress ? settings.Training with { LogEvery = 0 } : settings.Training;
        using var trainer = new JointTrainer(encoder, runtimes, strategies.Sampler, trainingOptions, encoderLearningRate,
            device, padId, _logger, strategies.Weighting, strategies.Sharing, strategies.Groups.BranchOf);
        using var tensorBoard = new TensorBoardLogger(outDirectory, trainer, _logger);
        using var progress = showProgress ? new ConsoleProgress(Console.Error, trainer, ConsoleProgress.TerminalWidth) : null;
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
            try
            {
                RunResume.Restore(start.Directory, start.Manifest, trainer, archive, selection.Tracker, _logger);
            }
            catch (Exception e) when (e is IOException or InvalidDataException or FormatException or ArgumentException or EndOfStreamException)
            {
                throw new UsageException($"checkpoint '{start.Directory}' is complete but cannot be restored: {e.Message} " +
                                         "Move that folder out of the checkpoints folder to resume from the one before it, or use a new --out.");
            }
            lastCheckpointStep = start.Manifest.Step;
            _logger.LogInformation("Resuming from {Checkpoint}: step {Step}/{Steps}, tasks {Tasks}", start.Directory, trainer.Step,
                settings.Training.StepBudgetText, string.Join(", ", trainer.Tasks.Select(t => $"{t.Id} v{t.Descriptor.Version} ({t.StepsTrained} steps)")));
        }
        var best = Path.Combine(outDirectory, "best");
        bool AfterEvaluation(int step, IReadOnlyList<TaskScores> scores)
        {
            if (selection.Observe(step, scores))
            {
                CheckpointWriter.Write(best, settings.Encoder, encoder, trainer.Tasks, step, settings.Training,
                    scores.ToDictionary(s => s.TaskId), archive.Heads, trainer.Branches, trainer.Weighting);
                _logger.LogInformation("Step {Step}: best {Measure} so far, {Score:F4}; wrote {Checkpoint}", step, selection.Measure,
                    selection.Tracker.Best, best);
            }
            return selection.Tracker.ShouldStop;
        }

        var checkpoint = Path.Combine(outDirectory, "checkpoint");
        // A resumable checkpoint of the run as it is now, in <out>/checkpoints/step-N; the oldest beyond --keep-checkpoints go.
        string WriteCheckpoint()
        {
            var state = new CheckpointTrainingState(trainer, recordedSettings, new CheckpointManifest.SelectionEntry(selection.Tracker.Best,
                selection.Tracker.BestStep, selection.Tracker.EvaluationsSinceBest));
            var folder = store.Write(trainer.Step, directory => CheckpointWriter.Write(directory, settings.Encoder, encoder, trainer.Tasks, trainer.Step,
                settings.Training, null, archive.Heads, trainer.Branches, trainer.Weighting, state));
            lastCheckpointStep = trainer.Step;
            _logger.LogInformation("Step {Step}: wrote checkpoint {Checkpoint}", trainer.Step, folder);
            hooks?.CheckpointWritten?.Invoke(folder, trainer.Step);
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
            hooks?.Started?.Invoke(new TrainingRunContext(trainer, hotReload, outDirectory, WriteCheckpoint, resume?.Directory));
            void BetweenSteps()
            {
                // First, so that a plugin change that goes wrong cannot cost the steps since the last checkpoint.
                var every = settings.Training.CheckpointEvery;
                if (every > 0 && trainer.Step > 0 && trainer.Step % every == 0 && trainer.Step != lastCheckpointStep)
                {
                    WriteCheckpoint();
                }
                hotReload?.ApplyPendingChanges();
                hooks?.BetweenSteps?.Invoke();
            }
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            if (!settings.Training.HasStepsLeft(trainer.Step) || selection.Tracker.ShouldStop)
            {
                // The checkpointed run had finished (step budget, or early stop): evaluate and summarise only.
                _logger.LogInformation("The run in {Out} had already finished at step {Step}; evaluating only", outDirectory, trainer.Step);
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
            trained.AddRange(trainer.Tasks);
        }

        if (trainer.Step != lastCheckpointStep)
        {
            WriteCheckpoint();
        }
        // <out>/checkpoint stays the run's final model (what eval, predict and the summary point to); the resumable
        // state is in <out>/checkpoints.
        var latest = report.Tasks.Where(t => t.Validation is not null).ToDictionary(t => t.TaskId, t => t.Validation!);
        CheckpointWriter.Write(checkpoint, settings.Encoder, encoder, trainer.Tasks, report.Steps, settings.Training, latest, archive.Heads,
            trainer.Branches, trainer.Weighting);
        var summary = RunSummary.From(settings.Encoder, settings.Device, report, checkpoint, refused) with
        {
            Sampler = strategies.Sampler.Name,
            Weighting = strategies.Weighting.Name,
            Sharing = strategies.Sharing.Name,
            Best = selection.Tracker.BestStep < 0 ? null : new RunSummary.BestEvaluation(selection.Tracker.BestStep, selection.Measure, selection.Tracker.Best, best),
            HotReload = hotReload is null ? null : HotReloadSummary.Of(hotReload.Status),
        };
        Directory.CreateDirectory(outDirectory);
        File.WriteAllText(Path.Combine(outDirectory, "summary.json"), JsonSerializer.Serialize(summary, SummaryJson.Options));
        _logger.LogInformation("Wrote checkpoint {Checkpoint}", checkpoint);
        return summary;
    }

    // --single-task: each task alone, with the same encoder, seed, steps and settings as a joint run,
    // each in <out>/single-task/<task>; their validation scores become <out>/baselines.json for Δm%.
    private RunSummary? TrainEachAlone(HostSettings settings, IReadOnlyList<TaskRuntime> runtimes, IReadOnlyList<RunSummary.Refusal> refused,
        torch.Device device, int padId, List<TaskRuntime> trained, CancellationToken cancellationToken)
    {
        var runs = new List<RunSummary>();
        var summaries = new List<string>();
        foreach (var runtime in runtimes)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            _logger.LogInformation("Single-task baseline: {Task}", runtime.Id);
            var directory = Path.Combine(settings.OutDirectory, Baselines.SingleTaskFolder, runtime.Id);
            var run = TrainTogether(settings, [runtime], directory, null, [], device, padId, trained, cancellationToken);
            if (run is not null)
            {
                runs.Add(run);
                summaries.Add(Path.Combine(directory, "summary.json"));
            }
        }
        if (runs.Count == 0)
        {
            return null;
        }

        var baselines = Baselines.FromSummaries(summaries);
        var baselinesPath = Path.Combine(settings.OutDirectory, Baselines.FileName);
        baselines.Write(baselinesPath);
        _logger.LogInformation("Wrote single-task baselines {Baselines}", baselinesPath);
        var seconds = runs.Sum(r => r.Seconds);
        var summary = new RunSummary(settings.Encoder, settings.Device, runs.Max(r => r.Steps), Math.Round(seconds, 3),
            Math.Round(runs.Sum(r => r.Steps) / Math.Max(seconds, 1e-9), 3), Path.Combine(settings.OutDirectory, Baselines.SingleTaskFolder),
            runs.SelectMany(r => r.Tasks).OrderBy(t => t.Id, StringComparer.Ordinal).ToList(), refused)
        {
            Sampler = runs[0].Sampler,
            Weighting = runs[0].Weighting,
            Sharing = runs[0].Sharing,
            SingleTask = true,
        };
        File.WriteAllText(Path.Combine(settings.OutDirectory, "summary.json"), JsonSerializer.Serialize(summary, SummaryJson.Options));
        return summary;
    }

    private void PrepareTasks(PluginSet plugins, TaskRuntimeFactory factory, List<TaskRuntime> runtimes, List<RunSummary.Refusal> refused)
    {
        foreach (var plugin in plugins.Result.Loaded)
        {
            var source = new TaskSource(plugin.Name, plugin.Candidate.Directory, Path.GetFileName(plugin.Candidate.AssemblyPath), plugin.Sha256);
            foreach (var task in plugin.Tasks)
            {
                try
                {
                    runtimes.Add(factory.Create(task, source));
                }
                catch (Exception e) when (e is TaskDataException or IOException or UnauthorizedAccessException)
                {
                    var reason = ExceptionChain.MessageWithCauses(e);
                    _logger.LogError("Task {Task} of plugin {Plugin} will not train: {Reason}", task.Descriptor.Id, plugin.Name, reason);
                    refused.Add(new RunSummary.Refusal(plugin.Name, task.Descriptor.Id, reason));
                }
                catch (Exception e)
                {
                    var reason = $"its dataset adapter threw {ExceptionChain.Describe(e)}";
                    _logger.LogError("Task {Task} of plugin {Plugin} will not train: {Reason}", task.Descriptor.Id, plugin.Name, reason);
                    refused.Add(new RunSummary.Refusal(plugin.Name, task.Descriptor.Id, reason));
                }
            }
        }
    }

    // HotReload:DebounceMilliseconds etc. tune the watcher; the defaults suit a person copying a plugin folder.
    private static HotReloadOptions HotReloadOptionsOf(IConfiguration configuration)
    {
        var defaults = new HotReloadOptions();
        double Read(string key, double fallback) =>
            double.TryParse(configuration[$"HotReload:{key}"], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v) && v >= 0 ? v : fallback;
        return new HotReloadOptions
        {
            Debounce = TimeSpan.FromMilliseconds(Read("DebounceMilliseconds", defaults.Debounce.TotalMilliseconds)),
            PollInterval = TimeSpan.FromMilliseconds(Math.Max(100, Read("PollMilliseconds", defaults.PollInterval.TotalMilliseconds))),
            UnloadTimeout = TimeSpan.FromSeconds(Read("UnloadTimeoutSeconds", defaults.UnloadTimeout.TotalSeconds)),
            DataTimeout = TimeSpan.FromSeconds(Read("DataTimeoutSeconds", defaults.DataTimeout.TotalSeconds)),
            ProbationSteps = (int)Read("ProbationSteps", defaults.ProbationSteps),
        };
    }
}
