namespace MtlHost.Core.Training;

/// <summary>A task's evaluation on one split.</summary>
/// <param name="TaskId">The task.</param>
/// <param name="Examples">Examples evaluated.</param>
/// <param name="Loss">Mean loss per example.</param>
/// <param name="Scores">Metric scores by name.</param>
/// <param name="PrimaryScore">Name of the metric's primary score.</param>
/// <param name="HigherIsBetter">Direction of the primary score.</param>
/// <param name="Baseline">
/// Primary score of a trivial predictor on the same split (the most frequent training label, or
/// the training mean for regression): what the task must beat.
/// </param>
public sealed record TaskScores(string TaskId, int Examples, double Loss, IReadOnlyDictionary<string, double> Scores,
    string PrimaryScore, bool HigherIsBetter, double Baseline)
{
    /// <summary>Value of the primary score.</summary>
    public double Primary => Scores.TryGetValue(PrimaryScore, out var value) ? value : double.NaN;
}
