namespace MtlHost.Core.Weighting;

/// <summary>
/// A strategy's learned state, one fixed-length row of doubles per task id. Rows of tasks that leave
/// the run are kept, so a task that comes back (or is replaced by a new version under the same id)
/// resumes where it was; they are a few numbers each.
/// </summary>
internal sealed class TaskStateTable(string strategy, double[] initialRow)
{
    private readonly Dictionary<string, double[]> _rows = new(StringComparer.Ordinal);

    /// <summary>The snapshot of a strategy that learns nothing.</summary>
    public static IReadOnlyDictionary<string, double[]> Empty => System.Collections.ObjectModel.ReadOnlyDictionary<string, double[]>.Empty;

    /// <summary>Whether the task has a row yet.</summary>
    public bool Contains(string taskId) => _rows.ContainsKey(taskId);

    /// <summary>The task's row, created from the initial row when the task is new. Callers update it in place.</summary>
    public double[] Row(string taskId)
    {
        if (!_rows.TryGetValue(taskId, out var row))
        {
            row = (double[])initialRow.Clone();
            _rows.Add(taskId, row);
        }
        return row;
    }

    /// <summary>A deep copy of every row.</summary>
    public IReadOnlyDictionary<string, double[]> Snapshot() =>
        _rows.ToDictionary(pair => pair.Key, pair => (double[])pair.Value.Clone(), StringComparer.Ordinal);

    /// <summary>Replaces every row with a copy of the snapshot's, after checking its layout.</summary>
    public void Restore(IReadOnlyDictionary<string, double[]> state)
    {
        foreach (var (taskId, row) in state)
        {
            if (row is null || row.Length != initialRow.Length || row.Any(v => !double.IsFinite(v)))
            {
                throw new ArgumentException(
                    $"The '{strategy}' weighting state of task '{taskId}' must be {initialRow.Length} finite numbers, but is " +
                    $"[{string.Join(", ", row ?? [])}]. Was it saved by another weighting strategy?", nameof(state));
            }
        }
        _rows.Clear();
        foreach (var (taskId, row) in state)
        {
            _rows.Add(taskId, (double[])row.Clone());
        }
    }

    /// <summary>Checks that a stateless strategy is given an empty snapshot.</summary>
    public static void RequireEmpty(string strategy, IReadOnlyDictionary<string, double[]> state)
    {
        if (state.Count != 0)
        {
            throw new ArgumentException(
                $"The '{strategy}' weighting learns no state, but was given state for {state.Count} task(s). Was it saved by another weighting strategy?",
                nameof(state));
        }
    }
}
