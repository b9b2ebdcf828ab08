namespace MtlHost.Core.Evaluation;

/// <summary>Δm% of a run against baselines, with what went into it and what was left out.</summary>
/// <param name="Percent">Δm% (positive: the multi-task run is better); <see langword="null"/> when no task could be counted.</param>
/// <param name="Scope">Which scores counted.</param>
/// <param name="Tasks">Tasks present on both sides, in baseline order, each with its contribution.</param>
/// <param name="MissingFromRun">Baseline tasks the run has no scores for: left out.</param>
/// <param name="MissingFromBaseline">Run tasks with no baseline: left out.</param>
/// <param name="Notes">Everything skipped or adjusted, one readable line each.</param>
public sealed record DeltaMResult(double? Percent, DeltaMScope Scope, IReadOnlyList<TaskDelta> Tasks,
    IReadOnlyList<string> MissingFromRun, IReadOnlyList<string> MissingFromBaseline, IReadOnlyList<string> Notes)
{
    /// <summary>Number of tasks that counted (T).</summary>
    public int CountedTasks => Tasks.Count(t => t.Percent is not null);
}
