namespace MtlHost.Core.Evaluation;

/// <summary>One task's contribution to Δm%: the mean of its counted scores' relative changes.</summary>
/// <param name="TaskId">The task.</param>
/// <param name="Percent">Mean of the counted <see cref="MetricDelta.Percent"/>; <see langword="null"/> when no score could be counted, and then the task is left out of Δm%.</param>
/// <param name="Metrics">Every score considered, counted or skipped.</param>
public sealed record TaskDelta(string TaskId, double? Percent, IReadOnlyList<MetricDelta> Metrics);
