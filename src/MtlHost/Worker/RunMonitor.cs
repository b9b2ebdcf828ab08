using System.Diagnostics;
using MtlHost.Runs;
using MtlHost.Core.Training;
using MtlHost.Dashboard;
using MtlHost.HotReload;

namespace MtlHost.Worker;

/// <summary>
/// What the dashboard shows of a run, kept current by the trainer's events on the training thread and read
/// by web requests on any other: per-task loss, score and weight curves (bounded, see <see cref="Curve"/>),
/// each task's standing, the step rate and the last checkpoint. The plugins and their events come from the
/// hot-reload coordinator's own thread-safe status. Holds only strings and numbers, never a task or a tensor.
/// </summary>
public sealed class RunMonitor
{
    private static readonly TimeSpan RateWindow = TimeSpan.FromSeconds(10);

    private readonly object _lock = new();
    private readonly int _maxPoints;
    private readonly SortedDictionary<string, TaskRecord> _tasks = new(StringComparer.Ordinal);
    private readonly Queue<(long Timestamp, int Step)> _recentSteps = new();
    private HotReloadStatus? _plugins;
    private RunState _state = RunState.Starting;
    private bool _paused;
    private int _step;
    private int? _totalSteps;
    private CheckpointView? _lastCheckpoint;
    private string? _error;

    /// <summary>Creates an empty monitor.</summary>
    /// <param name="maxPointsPerCurve">Most points each curve keeps (even); older points merge pairwise beyond it.</param>
    public RunMonitor(int maxPointsPerCurve = 2000)
    {
        _maxPoints = maxPointsPerCurve;
    }

    /// <summary>When the service started (UTC).</summary>
    public DateTime StartedAt { get; } = DateTime.UtcNow;

    /// <summary>How many events <see cref="Status"/> returns at most, newest kept.</summary>
    public int MaxEvents { get; init; } = 200;

    /// <summary>Joins a run that starts: follows its trainer's steps and evaluations. Call on the training thread.</summary>
    /// <param name="run">The run.</param>
    /// <param name="totalSteps">Its step budget, or <see langword="null"/> when it trains until stopped.</param>
    public void Started(TrainingRunContext run, int? totalSteps)
    {
        run.Trainer.StepCompleted += OnStep;
        run.Trainer.Evaluated += OnEvaluated;
        lock (_lock)
        {
            _plugins = run.HotReload?.Status;
            _totalSteps = totalSteps;
            _step = run.Trainer.Step;
            _state = RunState.Training;
            if (run.ResumedFrom is not null)
            {
                _lastCheckpoint = new CheckpointView(run.ResumedFrom, run.Trainer.Step, DateTime.UtcNow);
            }
        }
        ObserveTasks(run.Trainer.Tasks);
    }

    /// <summary>
    /// Takes the standing of the run's tasks (state, reason, steps); a task seen before and gone now is shown as removed.
    /// Call on the training thread, where the task list is stable.
    /// </summary>
    /// <param name="tasks">The trainer's tasks now.</param>
    public void ObserveTasks(IReadOnlyList<TaskRuntime> tasks)
    {
        lock (_lock)
        {
            var present = new HashSet<string>(StringComparer.Ordinal);
            foreach (var task in tasks)
            {
                present.Add(task.Id);
                var record = Record(task.Id);
                record.Plugin = task.Source.PluginName;
                record.State = task.State.ToString();
                record.Reason = task.QuarantineReason;
                record.StepsTrained = task.StepsTrained;
                record.SmoothedLoss = Finite(task.SmoothedLoss);
            }
            foreach (var (id, record) in _tasks)
            {
                if (!present.Contains(id) && record.State != "Removed")
                {
                    record.State = "Removed";
                    record.Reason = null;
                }
            }
        }
    }

    /// <summary>Notes whether training is paused.</summary>
    /// <param name="paused">Whether it is.</param>
    public void SetPaused(bool paused)
    {
        lock (_lock)
        {
            _paused = paused;
        }
    }

    /// <summary>Notes that the service is stopping the run.</summary>
    public void Stopping()
    {
        lock (_lock)
        {
            if (_state is RunState.Starting or RunState.Training)
            {
                _state = RunState.Stopping;
            }
        }
    }

    /// <summary>Notes that the run ended: it finished its steps or was stopped, and wrote its checkpoint; or it failed.</summary>
    /// <param name="checkpoint">The checkpoint it ended with, or <see langword="null"/>.</param>
    /// <param name="error">Why it failed, or <see langword="null"/> when it did not.</param>
    public void Ended(string? checkpoint, string? error)
    {
        lock (_lock)
        {
            _state = error is null ? RunState.Finished : RunState.Failed;
            _error = error;
            _paused = false;
            if (checkpoint is not null)
            {
                _lastCheckpoint = new CheckpointView(checkpoint, _step, DateTime.UtcNow);
            }
        }
    }

    /// <summary>The newest checkpoint of the run (written, or resumed from), or <see langword="null"/> while there is none.</summary>
    public CheckpointView? LastCheckpoint
    {
        get
        {
            lock (_lock)
            {
                return _lastCheckpoint;
            }
        }
    }

    /// <summary>Notes a checkpoint written during the run.</summary>
    /// <param name="path">Its folder.</param>
    /// <param name="step">The step it holds.</param>
    /// <returns>What <c>GET /api/status</c> shows of it.</returns>
    public CheckpointView CheckpointWritten(string path, int step)
    {
        lock (_lock)
        {
            _lastCheckpoint = new CheckpointView(path, step, DateTime.UtcNow);
            return _lastCheckpoint;
        }
    }

    /// <summary>Steps the run has taken, as <see cref="Status"/> reports it, without the cost of a whole snapshot (process memory).</summary>
    public int Step
    {
        get
        {
            lock (_lock)
            {
                return _step;
            }
        }
    }

    /// <summary>The run now, as <c>GET /api/status</c> returns it.</summary>
    /// <returns>A snapshot.</returns>
    public RunStatusView Status()
    {
        var plugins = _plugins;
        var pluginList = plugins?.Plugins ?? [];
        var events = plugins?.Events ?? [];
        using var process = Process.GetCurrentProcess();
        var memory = new MemoryView(process.WorkingSet64, GC.GetTotalMemory(forceFullCollection: false));
        lock (_lock)
        {
            var tasks = _tasks.Select(t => new TaskView(t.Key, t.Value.Plugin, t.Value.State, t.Value.Reason, t.Value.StepsTrained,
                t.Value.Loss.Last, t.Value.SmoothedLoss, t.Value.Weights.Last, t.Value.Metric, t.Value.Scores.Last)).ToList();
            return new RunStatusView(_state, _paused, _step, _totalSteps, Math.Round(StepsPerSecond(), 3), StartedAt, memory, tasks,
                pluginList, events.Skip(Math.Max(0, events.Count - MaxEvents)).ToList(), _lastCheckpoint, _error);
        }
    }

    /// <summary>Every task's curves, as <c>GET /api/metrics</c> returns them.</summary>
    /// <param name="since">Only points of later steps; <see langword="null"/> for all.</param>
    /// <returns>A snapshot.</returns>
    public MetricsView Metrics(int? since = null)
    {
        lock (_lock)
        {
            var tasks = _tasks.Select(t => new TaskCurvesView(t.Key, t.Value.Loss.Points(since), t.Value.Loss.ValuesPerPoint, t.Value.Metric,
                t.Value.HigherIsBetter, t.Value.Scores.Points(since), t.Value.Weights.Points(since))).ToList();
            return new MetricsView(_step, tasks);
        }
    }

    private void OnStep(TrainingStepRecord record)
    {
        lock (_lock)
        {
            _step = record.Step;
            foreach (var task in record.Tasks)
            {
                var curves = Record(task.TaskId);
                curves.Loss.Add(record.Step, task.Loss);
                curves.Weights.Add(record.Step, task.Weight);
            }
            var now = Stopwatch.GetTimestamp();
            _recentSteps.Enqueue((now, record.Step));
            while (_recentSteps.Count > 2 && Stopwatch.GetElapsedTime(_recentSteps.Peek().Timestamp, now) > RateWindow)
            {
                _recentSteps.Dequeue();
            }
        }
    }

    private void OnEvaluated(int step, IReadOnlyList<TaskScores> scores)
    {
        lock (_lock)
        {
            foreach (var score in scores)
            {
                var curves = Record(score.TaskId);
                curves.Metric = score.PrimaryScore;
                curves.HigherIsBetter = score.HigherIsBetter;
                curves.Scores.Add(step, score.Primary);
            }
        }
    }

    // Under the lock. Steps between the oldest and the newest step of the window, over the time from the oldest to now,
    // so the rate falls towards 0 while training is paused.
    private double StepsPerSecond()
    {
        if (_recentSteps.Count < 2)
        {
            return 0;
        }
        var oldest = _recentSteps.Peek();
        var newest = _recentSteps.Last();
        var seconds = Stopwatch.GetElapsedTime(oldest.Timestamp).TotalSeconds;
        return seconds <= 0 ? 0 : (newest.Step - oldest.Step) / seconds;
    }

    private TaskRecord Record(string id)
    {
        if (!_tasks.TryGetValue(id, out var record))
        {
            record = new TaskRecord(_maxPoints);
            _tasks.Add(id, record);
        }
        return record;
    }

    private static double? Finite(double value) => double.IsFinite(value) ? value : null;

    private sealed class TaskRecord(int maxPoints)
    {
        public string Plugin { get; set; } = "";
        public string State { get; set; } = "Training";
        public string? Reason { get; set; }
        public int StepsTrained { get; set; }
        public double? SmoothedLoss { get; set; }
        public string? Metric { get; set; }
        public bool? HigherIsBetter { get; set; }
        public Curve Loss { get; } = new(maxPoints);
        public Curve Scores { get; } = new(maxPoints);
        public Curve Weights { get; } = new(maxPoints);
    }
}
