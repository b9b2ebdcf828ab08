namespace MtlHost.Core.Training;

/// <summary>
/// The tasks of a joint run, in id order, with their heads' optimizers: finding one by id, and adding, replacing,
/// detaching and re-attaching one between two steps. A head's optimizer joins and leaves with its task, so a task that
/// leaves keeps its AdamW state for when it comes back or is archived.
/// </summary>
/// <remarks>
/// The trainer that owns the roster hears of every change: <c>joining</c> runs just before a task enters (its encoder
/// branch is made then), <c>changed</c> after any task entered or left (the trainer recollects the parameters it clips).
/// </remarks>
public sealed class TaskRoster
{
    private readonly List<TaskRuntime> _tasks;
    private readonly TrainingOptimizers _optimizers;
    private readonly Action<TaskRuntime> _joining;
    private readonly Action _changed;

    /// <summary>Creates the roster of a run's first tasks and their heads' optimizers.</summary>
    /// <param name="tasks">The tasks, their heads on the training device.</param>
    /// <param name="optimizers">The run's optimizers, which get one per head.</param>
    /// <param name="joining">Called with a task that is about to enter the run after it started (not for <paramref name="tasks"/>).</param>
    /// <param name="changed">Called after a task entered or left.</param>
    public TaskRoster(IEnumerable<TaskRuntime> tasks, TrainingOptimizers optimizers, Action<TaskRuntime> joining, Action changed)
    {
        _optimizers = optimizers;
        _joining = joining;
        _changed = changed;
        _tasks = tasks.OrderBy(t => t.Id, StringComparer.Ordinal).ToList();
        foreach (var task in _tasks)
        {
            _optimizers.AddHead(task.Id, task.Head);
        }
    }

    /// <summary>The tasks in the run, in id order: a copy, so the run may change while a caller reads it.</summary>
    public IReadOnlyList<TaskRuntime> Tasks => _tasks.ToList();

    /// <summary>The task with an id, or <see langword="null"/> when it is not in the run.</summary>
    /// <param name="taskId">The task id.</param>
    /// <returns>The task, or <see langword="null"/>.</returns>
    public TaskRuntime? Find(string taskId) => _tasks.FirstOrDefault(t => t.Id == taskId);

    /// <summary>Adds a task to the run; it is sampled from the next step on, at the run's current learning-rate factor.</summary>
    /// <param name="task">The task, its head on the training device.</param>
    /// <param name="restoreFrom">An earlier head of the same task whose matching tensors to take over, or <see langword="null"/>.</param>
    /// <returns>Which head tensors were restored and which start fresh.</returns>
    /// <exception cref="InvalidOperationException">A task with the same id is already in the run.</exception>
    public HeadTransferReport Add(TaskRuntime task, HeadSnapshot? restoreFrom = null)
    {
        if (_tasks.Any(t => t.Id == task.Id))
        {
            throw new InvalidOperationException($"Task '{task.Id}' is already in the run.");
        }
        _optimizers.AddHead(task.Id, task.Head);
        var report = restoreFrom is null
            ? HeadTransferReport.Fresh(task.Head.state_dict().Keys.ToList())
            : restoreFrom.RestoreInto(task.Head, _optimizers.HeadOptimizer(task.Id));
        if (restoreFrom is not null)
        {
            task.ContinueStepCount(restoreFrom.StepsTrained);
        }
        Insert(task);
        return report;
    }

    /// <summary>
    /// Copies a saved head into a task of the run: every tensor whose name and shape match, with its
    /// optimizer state, as hot reload does for a new version of a task.
    /// </summary>
    /// <param name="taskId">The task.</param>
    /// <param name="snapshot">The saved head.</param>
    /// <returns>Which tensors were restored and which start fresh.</returns>
    /// <exception cref="KeyNotFoundException">The task is not in the run.</exception>
    public HeadTransferReport RestoreHead(string taskId, HeadSnapshot snapshot)
    {
        var task = Find(taskId) ?? throw new KeyNotFoundException($"Task '{taskId}' is not in the run.");
        return snapshot.RestoreInto(task.Head, _optimizers.HeadOptimizer(taskId));
    }

    /// <summary>Takes a task out of the run with its head's optimizer, leaving both intact.</summary>
    /// <param name="taskId">The task.</param>
    /// <returns>The task and its optimizer; the caller owns them.</returns>
    /// <exception cref="KeyNotFoundException">No such task in the run.</exception>
    public DetachedTask Detach(string taskId)
    {
        var index = _tasks.FindIndex(t => t.Id == taskId);
        if (index < 0)
        {
            throw new KeyNotFoundException($"Task '{taskId}' is not in the run.");
        }
        var task = _tasks[index];
        _tasks.RemoveAt(index);
        _changed();
        return new DetachedTask(task, _optimizers.DetachHead(taskId));
    }

    /// <summary>Puts a detached task back, as it was.</summary>
    /// <param name="task">The task; the run owns it again.</param>
    /// <exception cref="InvalidOperationException">A task with the same id is in the run.</exception>
    public void Attach(DetachedTask task)
    {
        if (_tasks.Any(t => t.Id == task.Runtime.Id))
        {
            throw new InvalidOperationException($"Task '{task.Runtime.Id}' is already in the run.");
        }
        _optimizers.AttachHead(task.Runtime.Id, task.Runtime.Head, task.Optimizer);
        Insert(task.Runtime);
    }

    /// <summary>
    /// Swaps in a new version of a task: the new head takes over every tensor of the old head whose name
    /// and shape still match, with its optimizer state; the rest keep the plugin's initialisation.
    /// The encoder and the other tasks are untouched.
    /// </summary>
    /// <param name="replacement">The new version, its head on the training device.</param>
    /// <param name="previous">The old version, detached and intact; the caller owns it.</param>
    /// <returns>Which tensors were kept, reset and dropped.</returns>
    /// <exception cref="KeyNotFoundException">The task is not in the run.</exception>
    public HeadTransferReport Replace(TaskRuntime replacement, out DetachedTask previous)
    {
        previous = Detach(replacement.Id);
        using var snapshot = previous.Snapshot();
        _optimizers.AddHead(replacement.Id, replacement.Head);
        var report = snapshot.RestoreInto(replacement.Head, _optimizers.HeadOptimizer(replacement.Id));
        replacement.ContinueFrom(previous.Runtime);
        Insert(replacement);
        return report;
    }

    private void Insert(TaskRuntime task)
    {
        _joining(task);
        _tasks.Add(task);
        _tasks.Sort((a, b) => string.CompareOrdinal(a.Id, b.Id));
        _changed();
    }
}
