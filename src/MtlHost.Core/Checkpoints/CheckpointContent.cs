using MtlHost.Core.Encoders;
using MtlHost.Core.Sharing;
using MtlHost.Core.Training;
using MtlHost.Core.Weighting;

namespace MtlHost.Core.Checkpoints;

/// <summary>What <see cref="CheckpointWriter"/> writes: the model (encoder, heads, branches) at a step, and optionally what a run needs to resume.</summary>
/// <param name="EncoderName">Catalog name of the encoder.</param>
/// <param name="Encoder">The shared encoder.</param>
/// <param name="Tasks">The tasks whose heads to save.</param>
/// <param name="Step">Steps taken.</param>
/// <param name="Options">The run's options.</param>
public sealed record CheckpointContent(string EncoderName, BertEncoder Encoder, IReadOnlyList<TaskRuntime> Tasks, int Step, TrainingOptions Options)
{
    /// <summary>Latest validation scores by task id, if any.</summary>
    public IReadOnlyDictionary<string, TaskScores>? Scores { get; init; }

    /// <summary>
    /// Heads of tasks whose plugin left the run, saved too (state <c>Removed</c>) so that nothing learned is lost;
    /// a task that is also live is saved from its live head only.
    /// </summary>
    public IReadOnlyList<HeadSnapshot> RemovedHeads { get; init; } = [];

    /// <summary>Task-specific encoder parts (sharing strategies other than hard), saved as <c>branches/&lt;name&gt;.bin</c>.</summary>
    public IReadOnlyList<EncoderBranch> Branches { get; init; } = [];

    /// <summary>The run's loss weighting, whose learned per-task state (task weights, loss history) goes into the manifest.</summary>
    public ILossWeighting? Weighting { get; init; }

    /// <summary>
    /// The run's training state, making the checkpoint resumable (optimizer state, batch positions, counters, model
    /// selection); <see langword="null"/> writes the model only.
    /// </summary>
    public CheckpointTrainingState? Training { get; init; }

    /// <summary>A trainer's model as it is now: its encoder, tasks, branches and weighting at its step.</summary>
    /// <param name="trainer">The trainer.</param>
    /// <param name="encoderName">Catalog name of its encoder.</param>
    /// <param name="options">The run's options.</param>
    /// <returns>The content, model only.</returns>
    public static CheckpointContent Of(JointTrainer trainer, string encoderName, TrainingOptions options) =>
        new(encoderName, trainer.Encoder, trainer.Tasks, trainer.Step, options)
        {
            Branches = trainer.Branches,
            Weighting = trainer.Weighting,
        };
}
