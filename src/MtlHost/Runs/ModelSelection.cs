using MtlHost.Core.Evaluation;
using MtlHost.Core.Training;
using MtlHost.Evaluation;

namespace MtlHost.Runs;

/// <summary>
/// Chooses a run's best evaluation: by Δm% against stored single-task baselines when there are
/// some, else by the mean primary score (each negated where lower is better), and stops the run
/// when patience runs out.
/// </summary>
public sealed class ModelSelection
{
    private readonly IReadOnlyList<TaskMetrics>? _baselines;

    /// <summary>Creates the selection.</summary>
    /// <param name="baselines">Single-task baselines, or <see langword="null"/>.</param>
    /// <param name="patience">Evaluations without improvement before stopping; 0 never stops.</param>
    public ModelSelection(Baselines? baselines, int patience)
    {
        _baselines = baselines?.ToTaskMetrics();
        Tracker = new BestScoreTracker(patience);
    }

    /// <summary>What is compared, for people: <c>Δm%</c> or <c>mean primary score</c>.</summary>
    public string Measure => _baselines is null ? "mean primary score" : "Δm%";

    /// <summary>The best score so far and the patience count.</summary>
    public BestScoreTracker Tracker { get; }

    /// <summary>The selection score of an evaluation (higher is better); NaN when no task can be scored.</summary>
    /// <param name="scores">The evaluation's per-task scores.</param>
    /// <returns>The score.</returns>
    public double Score(IReadOnlyList<TaskScores> scores)
    {
        if (_baselines is not null)
        {
            return DeltaM.Compute(_baselines, scores).Percent ?? double.NaN;
        }
        var primaries = scores.Where(s => double.IsFinite(s.Primary)).Select(s => s.HigherIsBetter ? s.Primary : -s.Primary).ToList();
        return primaries.Count == 0 ? double.NaN : primaries.Average();
    }

    /// <summary>Records an evaluation.</summary>
    /// <param name="step">Its step.</param>
    /// <param name="scores">Its per-task scores.</param>
    /// <returns>Whether it is the best so far.</returns>
    public bool Observe(int step, IReadOnlyList<TaskScores> scores) => Tracker.Observe(step, Score(scores));
}
