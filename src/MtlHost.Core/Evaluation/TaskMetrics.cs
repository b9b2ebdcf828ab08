using MtlHost.Core.Training;

namespace MtlHost.Core.Evaluation;

/// <summary>One task's validation scores as Δm% needs them: every score, and which one is primary and its direction.</summary>
/// <param name="TaskId">The task.</param>
/// <param name="Primary">Name of the primary score.</param>
/// <param name="PrimaryHigherIsBetter">Direction of the primary score, as the task's metric states it.</param>
/// <param name="Scores">Every score by name (the primary one included).</param>
public sealed record TaskMetrics(string TaskId, string Primary, bool PrimaryHigherIsBetter, IReadOnlyDictionary<string, double> Scores)
{
    /// <summary>Value of the primary score, or NaN when it is missing from <see cref="Scores"/>.</summary>
    public double PrimaryValue => Scores.TryGetValue(Primary, out var value) ? value : double.NaN;

    /// <summary>Direction of a score: the metric's own for the primary score, else <see cref="MetricDirections"/>.</summary>
    /// <param name="scoreName">Score name.</param>
    /// <returns>Whether higher is better, or <see langword="null"/> when not known.</returns>
    public bool? HigherIsBetter(string scoreName) =>
        scoreName == Primary ? PrimaryHigherIsBetter : MetricDirections.HigherIsBetter(scoreName);

    /// <summary>The scores of an evaluation during or after training.</summary>
    /// <param name="scores">A task's evaluation.</param>
    /// <returns>The same scores.</returns>
    public static TaskMetrics From(TaskScores scores) =>
        new(scores.TaskId, scores.PrimaryScore, scores.HigherIsBetter, scores.Scores);
}
