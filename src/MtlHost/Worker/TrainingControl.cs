using MtlHost.Runs;
using MtlHost.Dashboard;

namespace MtlHost.Worker;

/// <summary>
/// Operator control of a serve run: pause and resume, write a checkpoint now, take a task out. Requests come from
/// web requests on any thread; they are carried out on the training thread between two steps — the only place
/// where the run may change — and the caller awaits the result. While paused the training thread waits there,
/// still applying plugin changes and requests, and still stops when the service stops. Under <c>mpirun</c> (rank 0 runs
/// the service) every decision is sent to every process at the boundary (<see cref="ControlBoundary"/>), so that all of
/// them pause, checkpoint and take a task out at the same step.
/// </summary>
public sealed class TrainingControl
{
    /// <summary>How often a paused run looks again for requests, plugin changes and a resume (under mpirun: exchanges again).</summary>
    public static TimeSpan PausedPoll { get; } = TimeSpan.FromMilliseconds(250);

    private readonly object _lock = new();
    private readonly Queue<Request> _requests = new();
    private readonly RunMonitor _monitor;
    private TrainingRunContext? _run;
    private ControlBoundary? _acrossProcesses;
    private bool _ended;
    private bool _paused;

    /// <summary>Creates the control of the service's run.</summary>
    /// <param name="monitor">Told about pauses and checkpoints.</param>
    public TrainingControl(RunMonitor monitor)
    {
        _monitor = monitor;
    }

    /// <summary>Whether training waits between two steps.</summary>
    public bool IsPaused
    {
        get
        {
            lock (_lock)
            {
                return _paused;
            }
        }
    }

    /// <summary>Holds training at the next step boundary until <see cref="Resume"/>.</summary>
    public void Pause() => SetPaused(true);

    /// <summary>Lets training go on.</summary>
    public void Resume() => SetPaused(false);

    /// <summary>Writes a checkpoint at the next step boundary (while paused, at once).</summary>
    /// <param name="cancellationToken">Stops waiting; the checkpoint is still written.</param>
    /// <returns>The checkpoint's folder and step.</returns>
    /// <exception cref="RunNotActiveException">The run has not started or has ended.</exception>
    public Task<CheckpointView> CheckpointAsync(CancellationToken cancellationToken = default)
    {
        var action = new CheckpointAction();
        return Submit(action, run =>
        {
            // Writing it raises the run's CheckpointWritten hook, which has told the monitor already.
            var path = action.Apply(run);
            return _monitor.LastCheckpoint ?? _monitor.CheckpointWritten(path, run.Trainer.Step);
        }, cancellationToken);
    }

    /// <summary>
    /// Takes a task out of the run at the next step boundary: its head is archived with the run, as when its plugin is
    /// deleted. Its plugin stays loaded; copying the plugin into the folder again, or restarting, brings the task back.
    /// </summary>
    /// <param name="taskId">The task.</param>
    /// <param name="cancellationToken">Stops waiting; the task is still removed.</param>
    /// <returns>Whether the task was removed, is not in the run, or is the last one training (which stays: a run needs a task).</returns>
    /// <exception cref="RunNotActiveException">The run has not started or has ended.</exception>
    public Task<TaskRemoval> RemoveTaskAsync(string taskId, CancellationToken cancellationToken = default)
    {
        var action = new TaskRemovalAction(taskId);
        return Submit(action, run =>
        {
            var removal = action.Apply(run);
            if (removal != TaskRemoval.LastTask)
            {
                _monitor.ObserveTasks(run.Trainer.Tasks);
            }
            return removal;
        }, cancellationToken);
    }

    /// <summary>Joins this control and its monitor to a training run, before it starts.</summary>
    /// <param name="run">The run.</param>
    /// <param name="totalSteps">The run's step budget, or <see langword="null"/> when it trains until stopped.</param>
    /// <param name="stopping">The service's stop: a paused run waits no more.</param>
    public void Attach(TrainingRun run, int? totalSteps, CancellationToken stopping)
    {
        run.Started += context =>
        {
            lock (_lock)
            {
                _run = context;
                _acrossProcesses = context.Group.Size > 1 ? new ControlBoundary(context.Group) : null;
            }
            _monitor.Started(context, totalSteps);
        };
        run.BetweenSteps += () => BetweenSteps(stopping);
        run.CheckpointWritten += (path, step) => _monitor.CheckpointWritten(path, step);
    }

    /// <summary>Notes that the run ended: requests still waiting, and any made from now on, fail with <see cref="RunNotActiveException"/>.</summary>
    public void Ended()
    {
        List<Request> abandoned;
        lock (_lock)
        {
            _ended = true;
            _run = null;
            abandoned = [.. _requests];
            _requests.Clear();
        }
        foreach (var request in abandoned)
        {
            request.Abandon(new RunNotActiveException("The run ended before the request was carried out."));
        }
    }

    private void SetPaused(bool paused)
    {
        lock (_lock)
        {
            _paused = paused;
            _monitor.SetPaused(paused);
            Monitor.PulseAll(_lock);
        }
    }

    private Task<T> Submit<T>(ControlAction action, Func<TrainingRunContext, T> work, CancellationToken cancellationToken)
    {
        var request = new Request<T>(action, work);
        lock (_lock)
        {
            if (_ended)
            {
                throw new RunNotActiveException("The run has ended; start the service again to train.");
            }
            if (_run is null)
            {
                throw new RunNotActiveException("Training has not started yet (plugins loading, encoder building); try again in a moment.");
            }
            _requests.Enqueue(request);
            Monitor.PulseAll(_lock);
        }
        return request.Completion.WaitAsync(cancellationToken);
    }

    // On the training thread, before each step.
    private void BetweenSteps(CancellationToken stopping)
    {
        if (_acrossProcesses is { } boundary && _run is { } started)
        {
            BetweenStepsAcrossProcesses(boundary, started, stopping);
            return;
        }
        using var wake = stopping.Register(() =>
        {
            lock (_lock)
            {
                Monitor.PulseAll(_lock);
            }
        });
        RunRequests();
        while (!stopping.IsCancellationRequested)
        {
            lock (_lock)
            {
                if (!_paused)
                {
                    break;
                }
                if (_requests.Count == 0)
                {
                    Monitor.Wait(_lock, PausedPoll);
                }
            }
            // A plugin dropped in while paused joins now, so the dashboard shows it without resuming.
            var run = _run;
            if (run?.HotReload is { } hotReload && hotReload.ApplyPendingChanges() > 0)
            {
                _monitor.ObserveTasks(run.Trainer.Tasks);
            }
            RunRequests();
        }
        if (_run is { } current)
        {
            _monitor.ObserveTasks(current.Trainer.Tasks);
        }
    }

    // Rank 0 of a run across processes: the same as alone, but every decision goes to every process first.
    private void BetweenStepsAcrossProcesses(ControlBoundary boundary, TrainingRunContext run, CancellationToken stopping)
    {
        using var wake = stopping.Register(() =>
        {
            lock (_lock)
            {
                Monitor.PulseAll(_lock);
            }
        });
        List<Request> taken = [];
        ControlDecision Decide()
        {
            lock (_lock)
            {
                taken = [.. _requests];
                _requests.Clear();
                return new ControlDecision(_paused, [.. taken.Select(r => r.Action)]);
            }
        }
        void CarryOut(ControlDecision decision)
        {
            foreach (var request in taken)
            {
                request.Run(run);
            }
            _monitor.ObserveTasks(run.Trainer.Tasks);
        }
        void WaitWhilePaused()
        {
            lock (_lock)
            {
                if (_paused && _requests.Count == 0 && !stopping.IsCancellationRequested)
                {
                    Monitor.Wait(_lock, PausedPoll);
                }
            }
        }
        boundary.Cross(run.HotReload, Decide, CarryOut, () => stopping.IsCancellationRequested, WaitWhilePaused);
    }

    private void RunRequests()
    {
        while (true)
        {
            Request? request;
            TrainingRunContext? run;
            lock (_lock)
            {
                if (!_requests.TryDequeue(out request))
                {
                    return;
                }
                run = _run;
            }
            if (run is null)
            {
                request.Abandon(new RunNotActiveException("The run ended before the request was carried out."));
            }
            else
            {
                request.Run(run);
            }
        }
    }

    private abstract class Request(ControlAction action)
    {
        // What every process carries out; Run carries it out here and answers the caller.
        public ControlAction Action { get; } = action;

        public abstract void Run(TrainingRunContext run);

        public abstract void Abandon(Exception reason);
    }

    private sealed class Request<T>(ControlAction action, Func<TrainingRunContext, T> work) : Request(action)
    {
        private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<T> Completion => _completion.Task;

        public override void Run(TrainingRunContext run)
        {
            try
            {
                _completion.SetResult(work(run));
            }
            catch (Exception e)
            {
                // The request failed, not the run: the caller hears why and training goes on.
                _completion.SetException(e);
            }
        }

        public override void Abandon(Exception reason) => _completion.TrySetException(reason);
    }
}
