using MtlHost.Abstractions;

namespace MtlHost.Inference;

/// <summary>A task a <see cref="MultiTaskPredictor"/> can predict.</summary>
/// <param name="Id">Task id.</param>
/// <param name="Kind">Its kind.</param>
/// <param name="Labels">Its labels in index order (empty for regression).</param>
/// <param name="State">
/// Its state in the checkpoint: <c>Training</c> tasks are predicted by default; <c>Quarantined</c> and <c>Removed</c>
/// ones only when asked for by id.
/// </param>
public sealed record PredictorTask(string Id, TaskKind Kind, IReadOnlyList<string> Labels, string State)
{
    /// <summary>State of a task that was trained until the checkpoint.</summary>
    public const string TrainingState = "Training";

    /// <summary>Whether the task is predicted when no task is named.</summary>
    public bool IsDefault => State == TrainingState;
}
