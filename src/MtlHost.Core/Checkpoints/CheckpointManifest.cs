using MtlHost.Core.Training;

namespace MtlHost.Core.Checkpoints;

/// <summary>
/// <c>manifest.json</c> of a checkpoint: what was trained, from which plugin DLLs (by SHA-256), and
/// where each part's weights are.
/// </summary>
public sealed record CheckpointManifest
{
    /// <summary>Format version of this manifest.</summary>
    public int Format { get; init; } = 1;

    /// <summary>When the checkpoint was written (UTC, ISO 8601).</summary>
    public required string CreatedUtc { get; init; }

    /// <summary>Optimizer steps taken when it was written.</summary>
    public required int Step { get; init; }

    /// <summary>Seed of the run.</summary>
    public required int Seed { get; init; }

    /// <summary>Version of the SDK the host implements.</summary>
    public required string SdkVersion { get; init; }

    /// <summary>Encoder name and shape.</summary>
    public required EncoderEntry Encoder { get; init; }

    /// <summary>One entry per task.</summary>
    public required IReadOnlyList<TaskEntry> Tasks { get; init; }

    /// <summary>The sharing strategy (<c>hard</c>, <c>top-layers</c>, <c>adapters</c>).</summary>
    public string Sharing { get; init; } = "hard";

    /// <summary>Task-specific encoder parts, by branch (a task id or a task group); empty with hard sharing.</summary>
    public IReadOnlyList<BranchEntry> Branches { get; init; } = [];

    /// <summary>The loss weighting and what it has learned, by task id; <see langword="null"/> when not recorded.</summary>
    public WeightingEntry? Weighting { get; init; }

    /// <summary>
    /// Every file of the checkpoint but the manifest, with its length: a checkpoint is complete only when all
    /// are there at these lengths. Empty in checkpoints written before the host recorded it.
    /// </summary>
    public IReadOnlyList<FileEntry> Files { get; init; } = [];

    /// <summary>
    /// What a run needs beyond the weights to continue from this checkpoint exactly (optimizer state, batch
    /// order positions, counters, model selection); <see langword="null"/> in checkpoints that hold only a model.
    /// </summary>
    public TrainingEntry? Training { get; init; }

    /// <summary>One file of the checkpoint.</summary>
    /// <param name="Path">Relative to the checkpoint folder, '/'-separated.</param>
    /// <param name="Length">Its length in bytes.</param>
    public sealed record FileEntry(string Path, long Length);

    /// <summary>The training state of a resumable checkpoint.</summary>
    /// <param name="Settings">
    /// The run's settings that a resumed run must share (option name, as on the command line, to value): a
    /// different encoder, seed, sharing or weighting cannot continue these weights and this state.
    /// </param>
    /// <param name="OptimizerFolder">Folder of the AdamW state files, relative to the checkpoint.</param>
    /// <param name="Tasks">Each task's progress by task id, live and removed ones.</param>
    /// <param name="Selection">Where model selection stood (best score, its step, patience used).</param>
    public sealed record TrainingEntry(IReadOnlyDictionary<string, string> Settings, string OptimizerFolder,
        IReadOnlyDictionary<string, TaskProgress> Tasks, SelectionEntry Selection);

    /// <summary>Model selection's state.</summary>
    /// <param name="Best">Best selection score so far; negative infinity before the first.</param>
    /// <param name="BestStep">Its step; -1 before the first.</param>
    /// <param name="EvaluationsSinceBest">Evaluations since the best one.</param>
    public sealed record SelectionEntry(double Best, int BestStep, int EvaluationsSinceBest);

    /// <summary>A loss weighting's learned state.</summary>
    /// <param name="Name">The weighting's name.</param>
    /// <param name="State">Its per-task state (see <c>ILossWeighting.GetState</c>).</param>
    public sealed record WeightingEntry(string Name, IReadOnlyDictionary<string, double[]> State);

    /// <summary>A task-specific encoder part.</summary>
    /// <param name="Name">Branch name: the task id, or the task group's name.</param>
    /// <param name="Strategy">The strategy that made it.</param>
    /// <param name="File">Its TorchSharp state file, relative to the checkpoint.</param>
    /// <param name="Parameters">Its parameter count.</param>
    public sealed record BranchEntry(string Name, string Strategy, string File, long Parameters);

    /// <summary>The encoder part of the manifest.</summary>
    /// <param name="Name">Catalog name (<c>minilm</c>, <c>tiny</c>).</param>
    /// <param name="File">Weights file, relative to the checkpoint folder.</param>
    /// <param name="HiddenSize">Width.</param>
    /// <param name="Layers">Number of layers.</param>
    /// <param name="Heads">Attention heads.</param>
    /// <param name="MaxLength">Longest token sequence used in training.</param>
    public sealed record EncoderEntry(string Name, string File, int HiddenSize, int Layers, int Heads, int MaxLength);

    /// <summary>The part of the manifest for one task.</summary>
    /// <param name="Id">Task id.</param>
    /// <param name="Version">Task version.</param>
    /// <param name="Kind">Task kind.</param>
    /// <param name="Labels">Labels in index order.</param>
    /// <param name="State">Training state at the time of the checkpoint.</param>
    /// <param name="Plugin">Plugin name.</param>
    /// <param name="PluginAssembly">File name of the plugin's main assembly.</param>
    /// <param name="PluginSha256">SHA-256 of that assembly; a checkpoint is only used with the same DLL.</param>
    /// <param name="HeadFile">Head weights file, relative to the checkpoint folder.</param>
    /// <param name="Scores">Validation scores at the time of the checkpoint.</param>
    public sealed record TaskEntry(string Id, string Version, string Kind, IReadOnlyList<string> Labels, string State, string Plugin,
        string PluginAssembly, string PluginSha256, string HeadFile, IReadOnlyDictionary<string, double>? Scores);
}
