namespace MtlHost.Core.Inference;

/// <summary>The predictions of every task asked for, for one input.</summary>
/// <param name="Step">Training step of the checkpoint that predicted.</param>
/// <param name="Tasks">One prediction per task, in task id order.</param>
public sealed record PredictionResponse(int Step, IReadOnlyList<TaskPrediction> Tasks)
{
    /// <summary>Tasks that were left out for this input and why (a pair task without a second text).</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];
}
