using System.Globalization;
using MtlHost.Core.Training;

namespace MtlHost.Core.Evaluation;

/// <summary>
/// Δm% (Maninis et al. 2019; Vandenhende et al. 2021), the usual one-number summary of a multi-task
/// run against single-task baselines:
/// Δm% = (1/T) Σ_t (1/M_t) Σ_m (−1)^{w_{t,m}} (B_{t,m} − N_{t,m}) / B_{t,m} × 100, with w = 1 where
/// higher is better, so a positive Δm% means the multi-task run is better.
/// </summary>
/// <remarks>
/// Two departures from the bare formula, both so that the number cannot mislead silently:
/// a score whose baseline is 0 is skipped with a note (its relative change is a division by zero),
/// and the denominator is |B| rather than B, because with a negative baseline (a Pearson or MCC
/// below 0) dividing by B flips the sign and an improvement would count as a loss. Tasks present on
/// one side only are listed and left out, never counted as 0.
/// </remarks>
public static class DeltaM
{
    /// <summary>Computes Δm% of a run against baselines.</summary>
    /// <param name="baselines">Single-task baseline scores, one entry per task.</param>
    /// <param name="run">The multi-task run's scores, one entry per task.</param>
    /// <param name="scope">Which scores count (default: the primary score only).</param>
    /// <returns>Δm%, per-task contributions, and what was left out and why.</returns>
    public static DeltaMResult Compute(IEnumerable<TaskMetrics> baselines, IEnumerable<TaskMetrics> run, DeltaMScope scope = DeltaMScope.Primary)
    {
        var baseList = Unique(baselines, "baselines");
        var runById = Unique(run, "run").ToDictionary(t => t.TaskId, StringComparer.Ordinal);
        var baseIds = baseList.Select(t => t.TaskId).ToHashSet(StringComparer.Ordinal);

        var notes = new List<string>();
        var tasks = new List<TaskDelta>();
        var missingFromRun = new List<string>();
        foreach (var b in baseList)
        {
            if (!runById.TryGetValue(b.TaskId, out var n))
            {
                missingFromRun.Add(b.TaskId);
                notes.Add($"{b.TaskId}: no scores in the run; left out of Δm%.");
                continue;
            }
            var task = CompareTask(b, n, scope, notes);
            tasks.Add(task);
        }
        var missingFromBaseline = runById.Keys.Where(id => !baseIds.Contains(id)).ToList();
        notes.AddRange(missingFromBaseline.Select(id => $"{id}: no baseline; left out of Δm%."));

        var counted = tasks.Where(t => t.Percent is not null).Select(t => t.Percent!.Value).ToList();
        double? percent = counted.Count == 0 ? null : counted.Average();
        return new DeltaMResult(percent, scope, tasks, missingFromRun, missingFromBaseline, notes);
    }

    /// <summary>Computes Δm% of scores from an evaluation (during training, e.g. to pick the best checkpoint).</summary>
    /// <param name="baselines">Single-task baseline scores, one entry per task.</param>
    /// <param name="run">The current evaluation of each task.</param>
    /// <param name="scope">Which scores count (default: the primary score only).</param>
    /// <returns>Δm% and its parts.</returns>
    public static DeltaMResult Compute(IEnumerable<TaskMetrics> baselines, IEnumerable<TaskScores> run, DeltaMScope scope = DeltaMScope.Primary) =>
        Compute(baselines, run.Select(TaskMetrics.From), scope);

    private static List<TaskMetrics> Unique(IEnumerable<TaskMetrics> tasks, string side)
    {
        var list = tasks.ToList();
        var duplicate = list.GroupBy(t => t.TaskId, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new ArgumentException($"Task '{duplicate.Key}' appears more than once in the {side}; give one entry per task.", side);
        }
        return list;
    }

    private static TaskDelta CompareTask(TaskMetrics b, TaskMetrics n, DeltaMScope scope, List<string> notes)
    {
        var metrics = new List<MetricDelta>();
        if (b.Primary != n.Primary)
        {
            notes.Add($"{b.TaskId}: the baseline's primary score is {b.Primary} but the run's is {n.Primary}; the baseline's is used.");
        }
        else if (b.PrimaryHigherIsBetter != n.PrimaryHigherIsBetter)
        {
            notes.Add($"{b.TaskId}: the baseline and the run disagree on the direction of {b.Primary}; the baseline's is used.");
        }

        // The primary score always comes first; in all-metrics mode the others follow in the baseline's order.
        var names = new List<string> { b.Primary };
        if (scope == DeltaMScope.AllKnownMetrics)
        {
            foreach (var name in b.Scores.Keys.Where(k => k != b.Primary))
            {
                if (!n.Scores.ContainsKey(name))
                {
                    notes.Add($"{b.TaskId}/{name}: not reported by the run; left out.");
                }
                else if (b.HigherIsBetter(name) is null)
                {
                    notes.Add($"{b.TaskId}/{name}: direction unknown (not in the table of MetricDirections); left out.");
                }
                else
                {
                    names.Add(name);
                }
            }
        }

        foreach (var name in names)
        {
            var higher = b.HigherIsBetter(name)!.Value;
            var hasB = b.Scores.TryGetValue(name, out var bv);
            var hasN = n.Scores.TryGetValue(name, out var nv);
            string? note = null;
            double? percent = null;
            if (!hasB || !hasN)
            {
                note = $"missing from the {(hasB ? "run" : "baseline")}; skipped.";
            }
            else if (!double.IsFinite(bv) || !double.IsFinite(nv))
            {
                note = $"not a finite number (baseline {Format(bv)}, run {Format(nv)}); skipped.";
            }
            else if (bv == 0)
            {
                note = "the baseline is 0, so its relative change is a division by zero; skipped.";
            }
            else
            {
                var sign = higher ? -1.0 : 1.0;
                percent = sign * (bv - nv) / Math.Abs(bv) * 100;
                if (bv < 0)
                {
                    note = $"the baseline is negative ({Format(bv)}); divided by |B| so that an improvement counts as positive.";
                }
            }
            if (note is not null)
            {
                notes.Add($"{b.TaskId}/{name}: {note}");
            }
            metrics.Add(new MetricDelta(name, higher, hasB ? bv : double.NaN, hasN ? nv : double.NaN, percent, note));
        }

        var counted = metrics.Where(m => m.Percent is not null).Select(m => m.Percent!.Value).ToList();
        if (counted.Count == 0)
        {
            notes.Add($"{b.TaskId}: no score could be compared; the task is left out of Δm%.");
        }
        return new TaskDelta(b.TaskId, counted.Count == 0 ? null : counted.Average(), metrics);
    }

    private static string Format(double value) => value.ToString("G6", CultureInfo.InvariantCulture);
}
