namespace MtlHost.Core.Training;

/// <summary>
/// Heads of tasks that left the run (their plugin was deleted), kept by task id so that the run's
/// checkpoint saves them and re-adding the task restores them.
/// </summary>
public sealed class HeadArchive : IDisposable
{
    private readonly Dictionary<string, HeadSnapshot> _heads = new(StringComparer.Ordinal);

    /// <summary>The archived heads, in task-id order.</summary>
    public IReadOnlyList<HeadSnapshot> Heads => _heads.Values.OrderBy(h => h.TaskId, StringComparer.Ordinal).ToList();

    /// <summary>Keeps <paramref name="snapshot"/>, replacing an older head of the same task.</summary>
    /// <param name="snapshot">The head; the archive owns it from now on.</param>
    public void Store(HeadSnapshot snapshot)
    {
        if (_heads.Remove(snapshot.TaskId, out var older))
        {
            older.Dispose();
        }
        _heads[snapshot.TaskId] = snapshot;
    }

    /// <summary>Takes a task's head out of the archive; the caller owns it.</summary>
    /// <param name="taskId">The task.</param>
    /// <param name="snapshot">The head, if archived.</param>
    /// <returns>Whether the task had an archived head.</returns>
    public bool TryTake(string taskId, out HeadSnapshot? snapshot) => _heads.Remove(taskId, out snapshot);

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var head in _heads.Values)
        {
            head.Dispose();
        }
        _heads.Clear();
    }
}
