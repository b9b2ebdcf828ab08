using System.Diagnostics;
using Microsoft.Extensions.Logging;
using MtlHost.Abstractions;
using MtlHost.Abstractions.Messages;
using MtlHost.Core.Distributed;
using MtlHost.Core.Training;
using MtlHost.Plugins;

namespace MtlHost.HotReload;

/// <summary>
/// Hot reload of task plugins in a running training: watches the plugins folder, prepares each changed version on a
/// thread of its own while the trainer steps (shadow copy, load, data; <see cref="HotReloadOptions.PrepareInBackground"/>),
/// and at the safe point between two steps — on the training thread, never in the middle of a step — adds new plugins,
/// replaces changed ones (keeping every head tensor that still fits), removes deleted ones (archiving
/// their heads), quarantines versions that fail to load, validate or train (the last good version keeps
/// training), and proves every old load context is collected. Every plugin is shadow-copied first.
/// </summary>
/// <remarks>
/// Across processes (<c>mpirun … train --watch</c>), rank 0 alone watches the folder and decides; at every boundary it
/// sends the other ranks its changes with the files of each version (<see cref="PluginChangeExchange"/>), every rank
/// prepares and applies them alike, and a version that fails on any rank is quarantined on every rank with that rank's
/// reason, so the ranks always train the same tasks.
/// </remarks>
public sealed class HotReloadCoordinator : IDisposable
{
    private static readonly EventId ReloadEvent = new(4000, "PluginReload");

    private readonly string _directory;
    private readonly TaskPluginLoader _loader;
    private readonly TaskRuntimeFactory _factory;
    private readonly HotReloadOptions _options;
    private readonly ILogger _logger;
    private readonly PluginShadowCopier _shadow;
    // Every shadow copy of the run and the plugin folder it came from: messages name the folder the author edits.
    private readonly ShadowCopyPaths _shadowPaths = new();
    private readonly Dictionary<string, ActivePlugin> _active = new(StringComparer.Ordinal);
    private readonly List<Probation> _probations = [];
    private readonly UnloadProver _unloads;
    private readonly PluginStatusFile? _statusFile;
    private readonly IProcessGroup _group;
    private readonly PluginChangeExchange _exchange;
    private PluginFolderWatcher? _watcher;
    private BackgroundPreparer? _preparer;
    private JointTrainer? _trainer;
    private volatile bool _finished;
    private int _statusFileFailures;

    /// <summary>Creates the coordinator; nothing is loaded or watched yet.</summary>
    /// <param name="pluginsDirectory">The plugins folder.</param>
    /// <param name="loader">Loads and validates plugins.</param>
    /// <param name="factory">Prepares tasks (data, head).</param>
    /// <param name="options">Debounce, timeouts, probation.</param>
    /// <param name="logger">Receives one structured event per add, replace, remove, quarantine and unload.</param>
    /// <param name="shadowRoot">Where shadow copies go (the system temp folder by default).</param>
    /// <param name="group">
    /// The processes training together; on ranks other than 0, <paramref name="pluginsDirectory"/> is not read: the plugins
    /// come from rank 0. <see langword="null"/> for one process.
    /// </param>
    public HotReloadCoordinator(string pluginsDirectory, TaskPluginLoader loader, TaskRuntimeFactory factory, HotReloadOptions options,
        ILogger logger, string? shadowRoot = null, IProcessGroup? group = null)
    {
        _loader = loader;
        _factory = factory;
        _options = options;
        _logger = logger;
        _shadow = new PluginShadowCopier(shadowRoot);
        _group = group ?? new SingleProcessGroup();
        _exchange = new PluginChangeExchange(_group, Path.Combine(_shadow.Root, "received"));
        _directory = _group.IsRoot ? Path.GetFullPath(pluginsDirectory) : _exchange.ReceivedDirectory;
        _statusFile = options.StatusFile is null ? null : new PluginStatusFile(options.StatusFile);
        _unloads = new UnloadProver(options, _shadow, (kind, step, plugin, version, milliseconds, message, level) =>
            Report(kind, step, plugin, null, version, null, milliseconds, message, null, null, level));
    }

    /// <summary>Each plugin's standing, the events, and the live load contexts.</summary>
    public HotReloadStatus Status { get; } = new();

    /// <summary>Heads of tasks whose plugin was removed; saved with the checkpoint, restored when the task comes back.</summary>
    public HeadArchive Archive { get; } = new();

    /// <summary>The run's shadow-copy folder.</summary>
    public string ShadowDirectory => _shadow.Root;

    /// <summary>
    /// Loads every plugin of the folder (from shadow copies) and prepares its tasks; plugins that fail
    /// are quarantined with their reason. Starts watching the folder, so nothing changed from now on is missed.
    /// </summary>
    /// <returns>The tasks to start the run with; the trainer owns them from then on.</returns>
    /// <exception cref="PluginFolderException">The folder does not exist.</exception>
    public IReadOnlyList<TaskRuntime> LoadInitial()
    {
        var candidates = _group.IsRoot ? PluginDiscovery.Discover(_directory) : [];
        if (_group.IsRoot)
        {
            _watcher = new PluginFolderWatcher(_directory, _options.Debounce, _options.PollInterval);
        }
        // Across processes, rank 0's plugins reach every rank: the others start from the same files.
        var changes = _exchange.Exchange(candidates.Select(c => new PreparedChange(c.Name, PrepareFiles(c, CancellationToken.None))).ToList(), PrepareReceived);
        var runtimes = new List<TaskRuntime>();
        foreach (var change in changes)
        {
            var candidate = change.Preparation!.Candidate;
            var prepared = Complete(change.Preparation, 0, null);
            if (prepared is null)
            {
                continue;
            }
            foreach (var runtime in prepared.Runtimes)
            {
                runtimes.Add(runtime);
                Report(PluginEventKind.Added, 0, candidate.Name, runtime.Id, null, prepared.Plugin.Version, prepared.Milliseconds,
                    $"task '{runtime.Id}' joined the run", null, null, LogLevel.Information);
            }
            Activate(prepared.Plugin);
        }
        if (_options.PrepareInBackground && _watcher is not null)
        {
            // From now on the preparer takes the watcher's changes; the training thread takes them prepared.
            _preparer = new BackgroundPreparer(_watcher, PrepareChange, _logger);
        }
        WriteStatusFile();
        return runtimes;
    }

    /// <summary>Connects the trainer that the changes are applied to.</summary>
    /// <param name="trainer">The trainer built from <see cref="LoadInitial"/>'s tasks.</param>
    public void Attach(JointTrainer trainer) => _trainer = trainer;

    /// <summary>
    /// Waits until a change is ready to apply — prepared, with <see cref="HotReloadOptions.PrepareInBackground"/>; reported by
    /// the watcher otherwise — or <paramref name="timeout"/> passes (for tests and benchmarks).
    /// </summary>
    /// <param name="timeout">The longest wait.</param>
    /// <returns>Whether a change is waiting.</returns>
    public bool WaitForChanges(TimeSpan timeout) => _preparer?.WaitForReady(timeout) ?? _watcher?.WaitForChanges(timeout) ?? false;

    /// <summary>
    /// The safe point: call on the training thread between two steps. Ends or reverts probations, then
    /// applies every settled change of the plugins folder, in the order they were seen. With
    /// <see cref="HotReloadOptions.PrepareInBackground"/>, only changes already prepared are applied: one still being
    /// prepared waits for a later boundary (so do the changes seen after it), and this never waits for a preparation.
    /// </summary>
    /// <returns>How many plugin changes were applied.</returns>
    /// <exception cref="InvalidOperationException">No trainer is attached.</exception>
    public int ApplyPendingChanges()
    {
        var trainer = _trainer ?? throw new InvalidOperationException("Attach the trainer before applying plugin changes.");
        CheckProbations(trainer);
        if (_watcher is null && _group.Size == 1)
        {
            return 0;
        }
        var applied = 0;
        foreach (var change in TakeChanges())
        {
            // Planned just before it is applied: an earlier change of this batch may have changed the run.
            Apply(trainer, change);
            applied++;
        }
        if (applied > 0)
        {
            // Each event already wrote the file; this write also has the plugins' standings set after their events.
            WriteStatusFile();
        }
        return applied;
    }

    /// <summary>
    /// Takes one task out of the run at an operator's request (the dashboard's <c>DELETE /api/tasks/{id}</c>), as a
    /// plugin removal does: its head is archived with the run and its parameters leave the optimizer. Call it on the
    /// training thread between two steps. The plugin stays loaded: copying it into the folder again (or restarting)
    /// brings the task back with its archived head.
    /// </summary>
    /// <param name="taskId">The task.</param>
    /// <param name="reason">Who asked, for the event log.</param>
    /// <returns><see langword="false"/> when no such task is in the run.</returns>
    /// <exception cref="InvalidOperationException">No trainer is attached.</exception>
    public bool RemoveTask(string taskId, string reason)
    {
        var trainer = _trainer ?? throw new InvalidOperationException("Attach the trainer before removing a task.");
        if (!trainer.Tasks.Any(t => t.Id == taskId))
        {
            return false;
        }
        var clock = Stopwatch.StartNew();
        var step = trainer.Step;
        var owner = _active.Values.FirstOrDefault(p => p.TaskIds.Contains(taskId));
        // A version on probation is accepted as it stands, as when its folder changes: there is nothing to revert to once its task is gone.
        var probation = _probations.FirstOrDefault(p => p.Replaced.Contains(taskId));
        if (probation is not null)
        {
            _probations.Remove(probation);
            Retire(probation.Previous, probation.PreviousTasks, step);
        }
        using (var detached = trainer.Roster.Detach(taskId))
        {
            Archive.Store(detached.Snapshot());
        }
        var pluginName = owner?.Name ?? taskId;
        if (owner is not null)
        {
            var left = trainer.Tasks.Select(t => t.Id).ToHashSet(StringComparer.Ordinal);
            if (!owner.TaskIds.Any(left.Contains))
            {
                Status.Set(new PluginStatus(owner.Name, PluginRunState.Removed, owner.Version, owner.Sha256, owner.TaskIds,
                    $"{reason}; copy the plugin into the folder again (or restart) to bring it back"));
            }
        }
        Report(PluginEventKind.Removed, step, pluginName, taskId, owner?.Version, null, clock.Elapsed.TotalMilliseconds,
            $"task '{taskId}' left the run ({reason}); its head is archived and saved with the checkpoint", null, null, LogLevel.Information);
        WriteStatusFile();
        return true;
    }

    /// <summary>Waits for every unload in progress to be proven (or reported as failed).</summary>
    /// <param name="timeout">The longest wait.</param>
    /// <returns>Whether they all finished.</returns>
    public bool WaitForUnloads(TimeSpan timeout) => _unloads.WaitAll(timeout);

    /// <summary>
    /// Stops watching, ends probations (keeping the newest versions and proving the older ones unloaded), and starts
    /// unloading the versions still in the run. Those are not proven collected: the trainer still references their tasks
    /// until it is itself collected, so a bounded wait here would only delay the end of the run and report false leaks.
    /// Dispose the trainer's tasks first.
    /// </summary>
    public void Dispose()
    {
        // Changes prepared but never applied were never part of the run: they go without events.
        foreach (var change in _preparer?.Stop() ?? [])
        {
            change.Preparation?.Discard(_shadow);
        }
        _preparer?.Dispose();
        _watcher?.Dispose();
        foreach (var probation in _probations)
        {
            Retire(probation.Previous, probation.PreviousTasks, _trainer?.Step ?? 0);
        }
        _probations.Clear();
        foreach (var plugin in _active.Values)
        {
            plugin.Plugin.Dispose();
        }
        _active.Clear();
        WaitForUnloads(_options.UnloadTimeout + TimeSpan.FromSeconds(1));
        _unloads.Dispose();
        _finished = true;
        WriteStatusFile();
        Archive.Dispose();
        _shadow.Dispose();
    }

    /// <summary>The status as <see cref="HotReloadOptions.StatusFile"/> receives it.</summary>
    /// <returns>A copy of the status now.</returns>
    public RunPluginStatus Snapshot() => new(DateTime.UtcNow, _finished, Environment.ProcessId, _trainer?.Step ?? 0, _directory,
        Status.LiveContexts, Status.FailedUnloads, Status.LateUnloads, Status.Plugins, Status.Events);

    // The changes to apply now: prepared by the preparer, or (without it) prepared here one by one, each just before it is applied.
    // Across processes, rank 0's changes, received by every rank at every boundary (a collective, even when nothing changed).
    private IEnumerable<PreparedChange> TakeChanges()
    {
        if (_group.Size == 1)
        {
            return TakeLocalChanges();
        }
        return _exchange.Exchange(_group.IsRoot ? TakeLocalChanges().ToList() : [], PrepareReceived);
    }

    private IEnumerable<PreparedChange> TakeLocalChanges()
    {
        if (_preparer is not null)
        {
            return _preparer.TakeReady();
        }
        return _watcher!.TakeChanges().Select(c => c.Name).Distinct(StringComparer.Ordinal).Select(name => PrepareChange(name, CancellationToken.None));
    }

    // On a rank other than 0, at the boundary: the version rank 0 sent, as written into this rank's received folder.
    private PluginPreparation PrepareReceived(PluginCandidate candidate) => PrepareFiles(candidate, CancellationToken.None);

    // Off the training thread (or on it, without the preparer): the plugin's files as they are now, prepared. Changes nothing of the run.
    private PreparedChange PrepareChange(string name, CancellationToken cancellation) =>
        new(name, PluginChangePlanner.Find(_directory, name) is { } candidate ? PrepareFiles(candidate, cancellation) : null);

    // Applies one prepared change at the safe point.
    private void Apply(JointTrainer trainer, PreparedChange prepared)
    {
        var step = trainer.Step;
        var name = prepared.Name;
        var change = PluginChangePlanner.Plan(name, prepared.Preparation?.Candidate, _active.ContainsKey(name));

        // A plugin on probation settles first: its newest version is accepted as it stands.
        var probation = _probations.FirstOrDefault(p => p.Current.Name == name);
        if (probation is not null)
        {
            _probations.Remove(probation);
            Retire(probation.Previous, probation.PreviousTasks, step);
        }

        switch (change.Kind)
        {
            case PlannedChangeKind.Remove:
                Remove(trainer, _active[name], step);
                return;
            case PlannedChangeKind.Forget:
                if (Status.Of(name) is { } known)
                {
                    Status.Set(known with { State = PluginRunState.Removed, Reason = null });
                }
                return;
        }

        _active.TryGetValue(name, out var previous);
        var version = Complete(prepared.Preparation!, step, previous);
        if (version is null)
        {
            return;
        }
        if (previous is null)
        {
            Add(trainer, version, step);
        }
        else
        {
            Replace(trainer, previous, version, step);
        }
    }

    private void Add(JointTrainer trainer, PreparedPlugin prepared, int step)
    {
        foreach (var runtime in prepared.Runtimes)
        {
            Archive.TryTake(runtime.Id, out var archived);
            using (archived)
            {
                var transfer = trainer.Roster.Add(runtime, archived);
                var message = archived is null
                    ? $"task '{runtime.Id}' joined the run"
                    : $"task '{runtime.Id}' joined the run with its archived head (from version {archived.Descriptor.Version}): kept {List(transfer.Kept)}; reset {List(transfer.Reset)}";
                Report(PluginEventKind.Added, step, prepared.Plugin.Name, runtime.Id, archived?.Descriptor.Version.ToString(), prepared.Plugin.Version,
                    prepared.Milliseconds, message, transfer.Kept, transfer.Reset, LogLevel.Information);
            }
        }
        Activate(prepared.Plugin);
    }

    private void Replace(JointTrainer trainer, ActivePlugin previous, PreparedPlugin prepared, int step)
    {
        var clock = Stopwatch.StartNew();
        var previousTasks = new List<DetachedTask>();
        var inRun = trainer.Tasks.Select(t => t.Id).ToHashSet(StringComparer.Ordinal);
        var replaced = new List<string>();
        foreach (var runtime in prepared.Runtimes)
        {
            if (previous.TaskIds.Contains(runtime.Id) && inRun.Contains(runtime.Id))
            {
                var transfer = trainer.Roster.Replace(runtime, out var old);
                previousTasks.Add(old);
                replaced.Add(runtime.Id);
                var oldVersion = old.Runtime.Descriptor.Version.ToString();
                var newVersion = runtime.Descriptor.Version.ToString();
                Report(PluginEventKind.Replaced, step, prepared.Plugin.Name, runtime.Id, $"{oldVersion} ({Short(previous.Sha256)})",
                    $"{newVersion} ({Short(prepared.Plugin.Sha256)})", prepared.Milliseconds + clock.Elapsed.TotalMilliseconds,
                    $"task '{runtime.Id}' {oldVersion} -> {newVersion}: kept {List(transfer.Kept)}; reset {List(transfer.Reset)}" +
                    (transfer.Dropped.Count > 0 ? $"; dropped {List(transfer.Dropped)}" : ""),
                    transfer.Kept, transfer.Reset, LogLevel.Information);
            }
            else
            {
                Archive.TryTake(runtime.Id, out var archived);
                using (archived)
                {
                    var transfer = trainer.Roster.Add(runtime, archived);
                    Report(PluginEventKind.Added, step, prepared.Plugin.Name, runtime.Id, null, prepared.Plugin.Version, prepared.Milliseconds,
                        $"task '{runtime.Id}' joined the run", transfer.Kept, transfer.Reset, LogLevel.Information);
                }
            }
        }
        var newIds = prepared.Runtimes.Select(r => r.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var id in previous.TaskIds.Where(id => !newIds.Contains(id) && inRun.Contains(id)))
        {
            var detached = trainer.Roster.Detach(id);
            Archive.Store(detached.Snapshot());
            previousTasks.Add(detached);
            Report(PluginEventKind.Removed, step, previous.Name, id, previous.Version, prepared.Plugin.Version, clock.Elapsed.TotalMilliseconds,
                $"task '{id}' is no longer offered by the plugin; its head is archived with the run", null, null, LogLevel.Information);
        }
        Activate(prepared.Plugin);
        if (_options.ProbationSteps > 0 && replaced.Count > 0)
        {
            _probations.Add(new Probation(previous, previousTasks, prepared.Plugin, replaced));
        }
        else
        {
            Retire(previous, previousTasks, step);
        }
    }

    private void Remove(JointTrainer trainer, ActivePlugin plugin, int step)
    {
        var clock = Stopwatch.StartNew();
        var detached = new List<DetachedTask>();
        var inRun = trainer.Tasks.Select(t => t.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var id in plugin.TaskIds.Where(inRun.Contains))
        {
            var task = trainer.Roster.Detach(id);
            Archive.Store(task.Snapshot());
            detached.Add(task);
        }
        _active.Remove(plugin.Name);
        Status.Set(new PluginStatus(plugin.Name, PluginRunState.Removed, plugin.Version, plugin.Sha256, plugin.TaskIds, null));
        foreach (var id in plugin.TaskIds)
        {
            Report(PluginEventKind.Removed, step, plugin.Name, id, plugin.Version, null, clock.Elapsed.TotalMilliseconds,
                $"task '{id}' left the run; its head is archived and saved with the checkpoint", null, null, LogLevel.Information);
        }
        Retire(plugin, detached, step);
    }

    private void CheckProbations(JointTrainer trainer)
    {
        foreach (var probation in _probations.ToList())
        {
            var current = trainer.Tasks.Where(t => probation.Replaced.Contains(t.Id)).ToList();
            var failed = current.FirstOrDefault(t => t.State == TaskState.Quarantined);
            if (failed is not null)
            {
                _probations.Remove(probation);
                Revert(trainer, probation, failed.Id, failed.QuarantineReason ?? "it failed");
            }
            else if (current.All(t => t.StepsTrainedThisVersion >= _options.ProbationSteps))
            {
                _probations.Remove(probation);
                Retire(probation.Previous, probation.PreviousTasks, trainer.Step);
            }
        }
    }

    // The new version failed in training: every task of it leaves, and the last good version takes over as it was.
    private void Revert(JointTrainer trainer, Probation probation, string failedTask, string reason)
    {
        var step = trainer.Step;
        var failed = new List<DetachedTask>();
        var inRun = trainer.Tasks.Select(t => t.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var id in probation.Current.TaskIds.Where(inRun.Contains))
        {
            failed.Add(trainer.Roster.Detach(id));
        }
        foreach (var old in probation.PreviousTasks)
        {
            if (Archive.TryTake(old.Runtime.Id, out var archived))
            {
                archived!.Dispose();
            }
            trainer.Roster.Attach(old);
        }
        var previous = probation.Previous;
        _active[previous.Name] = previous;
        var message = $"version {probation.Current.Version} failed in training (task '{failedTask}': {reason}); " +
                      $"the last good version {previous.Version} keeps training. Fix the plugin and copy it again to retry.";
        Status.Set(new PluginStatus(previous.Name, PluginRunState.TrainingLastGood, previous.Version, previous.Sha256, previous.TaskIds, message));
        Report(PluginEventKind.Quarantined, step, previous.Name, failedTask, previous.Version, probation.Current.Version, 0, message, null, null, LogLevel.Error);
        Report(PluginEventKind.Restored, step, previous.Name, failedTask, probation.Current.Version, previous.Version, 0,
            $"version {previous.Version} restored as it was when it was replaced", null, null, LogLevel.Warning);
        Retire(probation.Current, failed, step);
    }

    // The half of preparing a version that may run while a step is in flight: shadow copy, load (descriptors checked), each
    // task's data read and tokenized. It draws nothing from torch's generator (the step holds it for its whole length, and a
    // draw here would shift its dropout masks) and changes nothing of the run: every decision is left to Complete.
    private PluginPreparation PrepareFiles(PluginCandidate candidate, CancellationToken cancellation)
    {
        var clock = Stopwatch.StartNew();
        PluginCandidate copy;
        try
        {
            copy = _shadow.Copy(candidate);
            _shadowPaths.Add(copy.Directory, candidate.Directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new PluginPreparation
            {
                Candidate = candidate,
                CopyProblem = $"its files could not be copied ({e.Message}); it will be retried when it changes again.",
                Milliseconds = clock.Elapsed.TotalMilliseconds,
            };
        }

        var (plugin, refused) = _loader.Load(copy, checkHeads: false);
        if (plugin is null)
        {
            return new PluginPreparation { Candidate = candidate, Copy = copy, Refused = refused, Milliseconds = clock.Elapsed.TotalMilliseconds };
        }
        var source = new TaskSource(plugin.Name, copy.Directory, Path.GetFileName(copy.AssemblyPath), plugin.Sha256)
        {
            OriginalDirectory = candidate.Directory,
        };
        var tasks = new List<TaskDataResult>();
        try
        {
            foreach (var task in plugin.Tasks)
            {
                var result = ReadData(task, source, cancellation);
                tasks.Add(result);
                if (result.Problem is not null)
                {
                    // As before: the tasks after the first that fails are not prepared.
                    break;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The run is ending; this version never joined it.
            plugin.Dispose();
            _shadow.Release(copy);
            throw;
        }
        return new PluginPreparation
        {
            Candidate = candidate, Copy = copy, Plugin = plugin, Source = source, Tasks = tasks, Milliseconds = clock.Elapsed.TotalMilliseconds,
        };
    }

    // The half of preparing a version that runs on the training thread at a step boundary; on failure quarantines the
    // version and returns null. Across processes every rank learns whether it failed on any rank, and if so every rank
    // quarantines it with the reason of the lowest rank it failed on: the ranks keep training the same tasks.
    private PreparedPlugin? Complete(PluginPreparation preparation, int step, ActivePlugin? previous)
    {
        var clock = Stopwatch.StartNew();
        double Elapsed() => preparation.Milliseconds + clock.Elapsed.TotalMilliseconds;
        string? failure = null;
        string? failedVersion = null;
        var prepared = CompleteHere(preparation, step, (reason, version) => (failure, failedVersion) = (_shadowPaths.ToOriginal(reason), version));
        var agreed = _group.AgreeOnFailure(failure);
        if (agreed is null)
        {
            return prepared is null ? null : prepared with { Milliseconds = Elapsed() };
        }
        if (prepared is not null)
        {
            // It worked here but not on another rank.
            foreach (var runtime in prepared.Runtimes)
            {
                runtime.Dispose();
            }
            Retire(prepared.Plugin, [], step);
            failedVersion = prepared.Plugin.Version;
        }
        Quarantine(preparation.Candidate.Name, previous, failedVersion, step, Elapsed(), agreed);
        return null;
    }

    // Completing on this process alone, in the order of the checks it always had: heads on a dry batch (they draw from
    // torch's generator), task ids unique in the run, each task's data, then its head built. On failure cleans up, tells
    // `failed` the reason and the version (null when not loaded), and returns null.
    private PreparedPlugin? CompleteHere(PluginPreparation preparation, int step, Action<string, string?> failed)
    {
        var candidate = preparation.Candidate;
        if (preparation.CopyProblem is { } copyProblem)
        {
            failed(copyProblem, null);
            return null;
        }
        var copy = preparation.Copy!;
        var plugin = preparation.Plugin;
        var refused = plugin is null ? preparation.Refused : _loader.ValidateHeads(plugin);
        if (refused is not null)
        {
            failed(refused.Reason, null);
            if (refused.LoadContext is { } refusedContext)
            {
                _unloads.Prove(candidate.Name, "(refused)", refusedContext, copy, step);
            }
            else
            {
                _shadow.Release(copy);
            }
            return null;
        }
        var active = new ActivePlugin(plugin!, copy);
        Status.TrackContext(active.Name, active.Plugin.LoadContext);

        var owners = _active.Values.Where(p => p.Name != candidate.Name).SelectMany(p => p.TaskIds.Select(id => (id, p.Name)))
            .ToDictionary(x => x.id, x => x.Name, StringComparer.Ordinal);
        var clash = active.TaskIds.FirstOrDefault(owners.ContainsKey);
        if (clash is not null)
        {
            Retire(active, [], step);
            failed($"task id '{clash}' is already provided by plugin '{owners[clash]}'; task ids must be unique across plugins.", active.Version);
            return null;
        }

        var runtimes = new List<TaskRuntime>();
        foreach (var task in preparation.Tasks)
        {
            var (runtime, problem) = task.Problem is null ? Build(task, preparation.Source!) : (null, task.Problem);
            if (runtime is null)
            {
                foreach (var created in runtimes)
                {
                    created.Dispose();
                }
                Retire(active, [], step);
                failed(problem!, active.Version);
                return null;
            }
            runtimes.Add(runtime);
        }
        return new PreparedPlugin(active, runtimes, preparation.Milliseconds);
    }

    // A dataset adapter runs the plugin's own code on the plugin's data: it may throw or hang, so it runs with a timeout.
    private TaskDataResult ReadData(IMtlTask task, TaskSource source, CancellationToken cancellation)
    {
        var id = task.Descriptor.Id;
        // A thread of its own: a hung adapter must not hold a pool thread the watcher or other work needs.
        var work = Task.Factory.StartNew(() => _factory.ReadData(task, source), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        try
        {
            if (!work.Wait(_options.DataTimeout, cancellation))
            {
                return new TaskDataResult(task, null, ForTask(id, $"its dataset adapter did not finish within {_options.DataTimeout.TotalSeconds:0.#} s; " +
                                                                 "its thread cannot be stopped, so this version stays in memory until the host exits."));
            }
            return new TaskDataResult(task, work.Result, null);
        }
        catch (AggregateException e) when (e.InnerException is not null)
        {
            var inner = e.InnerException;
            return new TaskDataResult(task, null, ForTask(id, inner is TaskDataException
                ? ExceptionChain.MessageWithCauses(inner)
                : $"its dataset adapter or head threw {ExceptionChain.Describe(inner)}"));
        }
    }

    // The head is the plugin's code too; it runs here, on the training thread, because building it draws from torch's generator.
    private (TaskRuntime? Runtime, string? Problem) Build(TaskDataResult task, TaskSource source)
    {
        try
        {
            return (_factory.Build(task.Task, source, task.Data!), null);
        }
        catch (Exception e)
        {
            return (null, ForTask(task.Task.Descriptor.Id, $"its dataset adapter or head threw {ExceptionChain.Describe(e)}"));
        }
    }

    // A reason about one task starts with "task 'id'" once: the SDK's data errors (and the host's) already begin with
    // "Task 'id': …" or "Task 'id' has …", which used to follow the prefix ("task 'x': Task 'x': …").
    private static string ForTask(string id, string message)
    {
        var prefix = $"task '{id}'";
        return message.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) ? prefix + message[prefix.Length..] : $"{prefix}: {message}";
    }

    private void Quarantine(string name, ActivePlugin? previous, string? version, int step, double milliseconds, string reason)
    {
        reason = _shadowPaths.ToOriginal(reason);
        if (previous is not null)
        {
            var message = $"version {version ?? "(new)"} was quarantined: {reason} The last good version {previous.Version} keeps training.";
            Status.Set(new PluginStatus(name, PluginRunState.TrainingLastGood, previous.Version, previous.Sha256, previous.TaskIds, reason));
            Report(PluginEventKind.Quarantined, step, name, null, previous.Version, version, milliseconds, message, null, null, LogLevel.Error);
        }
        else
        {
            Status.Set(new PluginStatus(name, PluginRunState.Quarantined, version, null, [], reason));
            Report(PluginEventKind.Quarantined, step, name, null, null, version, milliseconds,
                $"quarantined: {reason} Fix the plugin and copy it again; the other tasks keep training.", null, null, LogLevel.Error);
        }
    }

    private void Activate(ActivePlugin plugin)
    {
        _active[plugin.Name] = plugin;
        Status.Set(new PluginStatus(plugin.Name, PluginRunState.Training, plugin.Version, plugin.Sha256, plugin.TaskIds, null));
    }

    // Frees a version: its tasks, its optimizer state, its load context; then proves, off the training thread, that the context is collected.
    private void Retire(ActivePlugin plugin, IReadOnlyList<DetachedTask> tasks, int step)
    {
        foreach (var task in tasks)
        {
            task.Dispose();
        }
        var context = plugin.Plugin.LoadContext;
        plugin.Plugin.Dispose();
        _unloads.Prove(plugin.Name, plugin.Version, context, plugin.Copy, step);
    }

    private void Report(PluginEventKind kind, int step, string plugin, string? taskId, string? oldVersion, string? newVersion, double milliseconds,
        string message, IReadOnlyList<string>? kept, IReadOnlyList<string>? reset, LogLevel level)
    {
        message = _shadowPaths.ToOriginal(message);
        Status.Record(new PluginEvent(DateTime.UtcNow, step, kind, plugin, taskId, oldVersion, newVersion, Math.Round(milliseconds, 1), message, kept, reset));
        _logger.Log(level, ReloadEvent, "Plugin {Plugin} {Kind} at step {Step} in {Milliseconds:F0} ms: {Message}",
            plugin, kind, step, milliseconds, message);
        WriteStatusFile();
    }

    // Called from the training thread and from unload verifiers; the file serialises the writes. A status file that
    // cannot be written must not stop training: it is logged (once) and training goes on.
    private void WriteStatusFile()
    {
        if (_statusFile is null)
        {
            return;
        }
        try
        {
            _statusFile.Write(Snapshot);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (Interlocked.Increment(ref _statusFileFailures) == 1)
            {
                _logger.LogWarning("Could not write the plugin status file {File}: {Message}; training goes on without it.", _statusFile.FilePath, e.Message);
            }
        }
    }

    private static string List(IReadOnlyList<string> names) => names.Count == 0 ? "none" : string.Join(", ", names);

    private static string Short(string sha256) => sha256.Length > 8 ? sha256[..8] : sha256;
}
