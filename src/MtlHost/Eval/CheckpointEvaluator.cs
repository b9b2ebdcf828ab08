using System.Diagnostics;
using Microsoft.Extensions.Logging;
using MtlHost.Abstractions;
using MtlHost.Abstractions.Messages;
using MtlHost.Core.Checkpoints;
using MtlHost.Core.Data;
using MtlHost.Core.Encoders;
using MtlHost.Core.Sharing;
using MtlHost.Core.Tokenization;
using MtlHost.Core.Training;
using MtlHost.Inference;
using MtlHost.Plugins;
using static TorchSharp.torch;

using MtlHost.Runs;

namespace MtlHost.Eval;

/// <summary>
/// Scores every task of a checkpoint on one split (<c>mtlhost eval</c>) the way training scores them on the validation
/// split: the same evaluator, metrics and trivial baseline, the data read and tokenized as the run read it (its seed and
/// longest sequence), so the validation scores of a run's final checkpoint are the ones its summary reports.
/// </summary>
/// <remarks>
/// Loads only the plugin DLLs the checkpoint's manifest names, with the SHA-256 it records (as <c>predict</c> does), and
/// reads each task's data from the plugin's folder in the plugins folder. Runs on the CPU without gradients.
/// </remarks>
public static class CheckpointEvaluator
{
    /// <summary>Evaluates a checkpoint.</summary>
    /// <param name="checkpointDirectory">The checkpoint folder (<c>&lt;run&gt;/checkpoint</c>, <c>&lt;run&gt;/best</c>, a <c>checkpoints/step-N</c>).</param>
    /// <param name="pluginsDirectory">The plugins folder holding the DLLs the manifest names.</param>
    /// <param name="split">The split to score on; not <see cref="DataSplit.Train"/>.</param>
    /// <param name="batchSize">Examples per evaluation batch (training's <c>Training:EvalBatchSize</c> gives identical numbers).</param>
    /// <param name="logger">Receives what was loaded, data problems and each task's scores.</param>
    /// <returns>One result per task of the checkpoint, in id order.</returns>
    /// <exception cref="ArgumentException"><paramref name="split"/> is the training split, or <paramref name="batchSize"/> is below 1.</exception>
    /// <exception cref="CheckpointException">
    /// The checkpoint is missing, incomplete or malformed, or a task that was training cannot be rebuilt (its plugin is
    /// missing or changed, its head does not fit, its encoder branch cannot be told).
    /// </exception>
    public static CheckpointEvaluation Evaluate(string checkpointDirectory, string pluginsDirectory, DataSplit split, int batchSize, ILogger logger)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(checkpointDirectory);
        ArgumentException.ThrowIfNullOrWhiteSpace(pluginsDirectory);
        if (split == DataSplit.Train)
        {
            throw new ArgumentException("The training split is what the model learnt from; evaluate on validation or test.", nameof(split));
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);

        var clock = Stopwatch.StartNew();
        var directory = Path.GetFullPath(checkpointDirectory);
        var manifest = CheckpointReader.ReadManifest(directory);
        RequireComplete(directory, manifest);
        using var encoder = CheckpointModelLoader.LoadEncoder(directory, manifest);
        var branches = CheckpointModelLoader.LoadBranches(directory, manifest, encoder);
        var plugins = new List<LoadedPlugin>();
        using var shadow = new PluginShadowCopier();
        try
        {
            var config = encoder.Config;
            var headOptions = new HeadOptions(config.HiddenSize, config.HiddenDropout);
            var results = new List<CheckpointEvaluation.TaskResult>();
            var taskBranches = new Dictionary<string, EncoderBranch>(StringComparer.Ordinal);
            // Every plugin first: a trained task that cannot be rebuilt stops the command before minutes of evaluation.
            var located = Locate(manifest, branches, taskBranches, pluginsDirectory, new TaskPluginLoader(headOptions, logger), shadow, plugins, results);

            var tokenizer = BertWordPieceTokenizer.FromVocabulary(MiniLmPackage.OpenVocabulary());
            var evaluator = new TaskEvaluator(encoder, CPU, tokenizer.PadId, batchSize,
                string.Equals(manifest.Sharing, HardSharing.StrategyName, StringComparison.OrdinalIgnoreCase) ? null : id => taskBranches[id]);
            var context = new Context(directory, manifest, split, headOptions, tokenizer, evaluator, logger);
            results.AddRange(located.Select(task => EvaluateTask(context, task)));
            results.Sort((a, b) => string.CompareOrdinal(a.Id, b.Id));
            return new CheckpointEvaluation(directory, manifest.Step, manifest.Encoder.Name, SplitName(split),
                Math.Round(clock.Elapsed.TotalSeconds, 3), results);
        }
        finally
        {
            foreach (var plugin in plugins)
            {
                plugin.Dispose();
            }
            foreach (var branch in branches.Values)
            {
                branch.Dispose();
            }
        }
    }

    /// <summary>The name of a split as the command line and the results give it.</summary>
    /// <param name="split">The split.</param>
    /// <returns><c>train</c>, <c>validation</c> or <c>test</c>.</returns>
    public static string SplitName(DataSplit split) => split.ToString().ToLowerInvariant();

    // What every task's evaluation shares.
    private sealed record Context(string Directory, CheckpointManifest Manifest, DataSplit Split, HeadOptions HeadOptions,
        BertWordPieceTokenizer Tokenizer, TaskEvaluator Evaluator, ILogger Logger);

    // A task of the checkpoint found in its plugin, with the folder its data ships in.
    private sealed record LocatedTask(CheckpointManifest.TaskEntry Entry, IMtlTask Task, LoadedPlugin Plugin, string DataDirectory);

    // Loads the plugin of every task and finds each task in it (and its encoder branch). A task that had left training
    // (quarantined, removed) may have left with its plugin: it is listed as unavailable. A trained one must be there.
    private static List<LocatedTask> Locate(CheckpointManifest manifest, Dictionary<string, EncoderBranch> branches,
        Dictionary<string, EncoderBranch> taskBranches, string pluginsDirectory, TaskPluginLoader loader, PluginShadowCopier shadow,
        List<LoadedPlugin> plugins, List<CheckpointEvaluation.TaskResult> unavailable)
    {
        var located = new List<LocatedTask>();
        var candidates = CheckpointPluginResolver.Discover(pluginsDirectory);
        foreach (var group in manifest.Tasks.GroupBy(t => (t.Plugin, t.PluginAssembly, t.PluginSha256)))
        {
            var entries = group.OrderBy(t => t.Id, StringComparer.Ordinal).ToList();
            PluginCandidate candidate;
            LoadedPlugin plugin;
            try
            {
                candidate = CheckpointPluginResolver.Find(entries[0], candidates, pluginsDirectory);
                plugin = CheckpointPluginResolver.Load(entries[0], candidate, loader, shadow);
            }
            catch (CheckpointException e) when (entries.All(t => t.State != PredictorTask.TrainingState))
            {
                unavailable.AddRange(entries.Select(t => Result(t, TaskEvaluationOutcome.Unavailable, null, e.Message)));
                continue;
            }
            plugins.Add(plugin);
            foreach (var entry in entries)
            {
                try
                {
                    var (task, _) = CheckpointModelLoader.FindTask(entry, plugin);
                    if (CheckpointModelLoader.BranchOf(entry, manifest, branches) is { } branch)
                    {
                        taskBranches[entry.Id] = branch;
                    }
                    // The data of the plugin as found, not of its shadow copy: a DLL loose in the plugins folder is copied without it.
                    located.Add(new LocatedTask(entry, task, plugin, candidate.Directory));
                }
                catch (CheckpointException e) when (entry.State != PredictorTask.TrainingState)
                {
                    unavailable.Add(Result(entry, TaskEvaluationOutcome.Unavailable, null, e.Message));
                }
            }
        }
        return located;
    }

    private static CheckpointEvaluation.TaskResult EvaluateTask(Context context, LocatedTask located)
    {
        var (entry, task, plugin, dataDirectory) = located;
        var trained = entry.State == PredictorTask.TrainingState;
        var data = TaskData.Read(task, entry, dataDirectory, context.Manifest, context.Split, context.Tokenizer, context.Logger);
        if (data.Problem is { } problem)
        {
            context.Logger.Log(data.Outcome == TaskEvaluationOutcome.Failed ? LogLevel.Error : LogLevel.Warning, "Task {Task}: {Reason}", entry.Id, problem);
            return Result(entry, data.Outcome, null, problem);
        }

        TaskHead? head = null;
        TaskRuntime? runtime = null;
        try
        {
            head = CheckpointModelLoader.CreateHead(entry, task, context.HeadOptions);
            // The runtime fits the loss (and a head's initial bias) to the training split, as training did; the head's
            // trained weights are read after that, so they win.
            runtime = new TaskRuntime(task, new TaskSource(plugin.Name, dataDirectory, entry.PluginAssembly, entry.PluginSha256), head,
                data.Train, data.Examples, context.Manifest.Seed ^ StableHash.Of(entry.Id));
            CheckpointModelLoader.LoadHeadWeights(context.Directory, entry, runtime.Head);
        }
        catch (CheckpointException e) when (!trained)
        {
            Discard(runtime, head);
            return Result(entry, TaskEvaluationOutcome.Unavailable, null, e.Message);
        }
        catch (Exception e) when (e is not (OutOfMemoryException or CheckpointException))
        {
            // The plugin's loss, metric or head preparation threw: its code, not the checkpoint.
            Discard(runtime, head);
            return Failure(context, entry, $"its plugin threw {e.GetType().Name} while the task was rebuilt: {e.Message}");
        }
        catch
        {
            Discard(runtime, head);
            throw;
        }

        TaskScores scores;
        // Disposed at once: the next task's data and head need not share memory with this one's.
        using (runtime)
        {
            try
            {
                scores = context.Evaluator.Evaluate(runtime, data.Examples);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                return Failure(context, entry, $"evaluation failed: {ExceptionChain.Describe(e)}");
            }
        }
        context.Logger.LogInformation("{Split} {Task}: {Examples} examples, loss {Loss:F4} {Primary} {Score:F4} (trivial baseline {Baseline:F4})",
            SplitName(context.Split), entry.Id, scores.Examples, scores.Loss, scores.PrimaryScore, scores.Primary, scores.Baseline);
        return Result(entry, TaskEvaluationOutcome.Evaluated, RunSummary.ValidationResult.Of(scores), null);
    }

    // Module disposal is idempotent, so a head the runtime already disposed is no problem.
    private static void Discard(TaskRuntime? runtime, TaskHead? head)
    {
        runtime?.Dispose();
        head?.Dispose();
    }

    private static CheckpointEvaluation.TaskResult Failure(Context context, CheckpointManifest.TaskEntry entry, string reason)
    {
        context.Logger.LogError("Task {Task}: {Reason}", entry.Id, reason);
        return Result(entry, TaskEvaluationOutcome.Failed, null, reason);
    }

    private static CheckpointEvaluation.TaskResult Result(CheckpointManifest.TaskEntry entry, TaskEvaluationOutcome outcome,
        RunSummary.ValidationResult? result, string? note) =>
        new(entry.Id, entry.Version, entry.Plugin, entry.State, outcome, result, note);

    // A checkpoint lists its files with their lengths; a file missing or cut short means a write that never finished.
    private static void RequireComplete(string directory, CheckpointManifest manifest)
    {
        foreach (var file in manifest.Files)
        {
            var info = new FileInfo(Path.Combine(directory, file.Path));
            var problem = !info.Exists ? "is missing"
                : info.Length != file.Length ? $"has {info.Length} bytes, not the {file.Length} its manifest records"
                : null;
            if (problem is not null)
            {
                throw new CheckpointException($"Checkpoint '{directory}' is incomplete: its file {file.Path} {problem}. Evaluate another checkpoint " +
                                              "of the run (<run>/checkpoint, <run>/best, <run>/checkpoints/step-N) or write this one again with a training run.");
            }
        }
    }
}
