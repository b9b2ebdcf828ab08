using MtlHost.Abstractions;
using MtlHost.Core.Checkpoints;
using MtlHost.Core.Inference;
using MtlHost.Inference;
using MtlHost.Plugins;

namespace MtlHost.Commands;

/// <summary>
/// The texts an int8 export calibrates on (<see cref="Int8Calibrator"/>): the first training examples of every trained
/// task of a checkpoint, read through its plugin's dataset adapter as training read them. Never the validation split,
/// which the export is judged on.
/// </summary>
public static class CalibrationTexts
{
    /// <summary>The default number of training texts per task.</summary>
    public const int DefaultPerTask = 300;

    /// <summary>Reads the texts.</summary>
    /// <param name="checkpointDirectory">The checkpoint folder.</param>
    /// <param name="pluginsDirectory">The plugins folder holding the DLLs the manifest names (checked by SHA-256, as <c>predict</c> checks them).</param>
    /// <param name="perTask">Texts per task, at most.</param>
    /// <returns>Each text with its task; a token task's words joined by spaces, as the ONNX predictor splits them again.</returns>
    /// <exception cref="CheckpointException">A trained task's plugin is missing or changed.</exception>
    public static IReadOnlyList<(string TaskId, PredictionInput Input)> Read(string checkpointDirectory, string pluginsDirectory, int perTask = DefaultPerTask)
    {
        var manifest = CheckpointReader.ReadManifest(Path.GetFullPath(checkpointDirectory));
        var candidates = CheckpointPluginResolver.Discover(pluginsDirectory);
        var loader = new TaskPluginLoader(new HeadOptions(manifest.Encoder.HiddenSize, 0));
        using var shadow = new PluginShadowCopier();
        var texts = new List<(string, PredictionInput)>();
        foreach (var entry in manifest.Tasks.Where(t => t.State == PredictorTask.TrainingState).OrderBy(t => t.Id, StringComparer.Ordinal))
        {
            var candidate = CheckpointPluginResolver.Find(entry, candidates, pluginsDirectory);
            using var plugin = CheckpointPluginResolver.Load(entry, candidate, loader, shadow);
            var (task, _) = CheckpointModelLoader.FindTask(entry, plugin);
            var dataset = task.CreateDataset(new TaskContext(candidate.Directory, manifest.Seed));
            texts.AddRange(dataset.Read(DataSplit.Train).Take(perTask)
                .Select(e => (entry.Id, new PredictionInput(e.Text ?? string.Join(' ', e.Words ?? []), e.TextPair))));
        }
        return texts;
    }
}
