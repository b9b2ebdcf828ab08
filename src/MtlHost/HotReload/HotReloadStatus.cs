namespace MtlHost.HotReload;

/// <summary>
/// The live status of hot reload in a run — each plugin's standing, every event, and how many plugin
/// load contexts are alive — safe to read from any thread (the dashboard's worker reads it while the
/// training thread writes it). It holds only strings and numbers, never anything of a plugin.
/// </summary>
public sealed class HotReloadStatus
{
    private readonly object _lock = new();
    private readonly List<PluginEvent> _events = [];
    private readonly Dictionary<string, PluginStatus> _plugins = new(StringComparer.Ordinal);
    private readonly List<(string Plugin, WeakReference Context)> _contexts = [];

    /// <summary>Every event so far, oldest first.</summary>
    public IReadOnlyList<PluginEvent> Events
    {
        get
        {
            lock (_lock)
            {
                return _events.ToList();
            }
        }
    }

    /// <summary>Each plugin's standing, by name.</summary>
    public IReadOnlyList<PluginStatus> Plugins
    {
        get
        {
            lock (_lock)
            {
                return _plugins.Values.OrderBy(p => p.Name, StringComparer.Ordinal).ToList();
            }
        }
    }

    /// <summary>Plugin load contexts still alive: the loaded versions, plus any unloaded one not yet (or never) collected.</summary>
    public int LiveContexts
    {
        get
        {
            lock (_lock)
            {
                _contexts.RemoveAll(c => !c.Context.IsAlive);
                return _contexts.Count;
            }
        }
    }

    /// <summary>
    /// Unloads that did not complete within the wait and have not completed since: contexts leaked by something still
    /// referencing the plugin. One that is collected later after all counts among <see cref="LateUnloads"/> instead.
    /// </summary>
    public int FailedUnloads
    {
        get
        {
            lock (_lock)
            {
                return _events.Count(e => e.Kind == PluginEventKind.UnloadFailed) - _events.Count(e => e.Kind == PluginEventKind.UnloadedLate);
            }
        }
    }

    /// <summary>Unloads that did not complete within the wait but did later (a slow collection, not a leak).</summary>
    public int LateUnloads
    {
        get
        {
            lock (_lock)
            {
                return _events.Count(e => e.Kind == PluginEventKind.UnloadedLate);
            }
        }
    }

    /// <summary>Records an event.</summary>
    /// <param name="pluginEvent">The event.</param>
    public void Record(PluginEvent pluginEvent)
    {
        lock (_lock)
        {
            _events.Add(pluginEvent);
        }
    }

    /// <summary>Sets a plugin's standing.</summary>
    /// <param name="status">The standing.</param>
    public void Set(PluginStatus status)
    {
        lock (_lock)
        {
            _plugins[status.Name] = status;
        }
    }

    /// <summary>A plugin's standing, if known.</summary>
    /// <param name="name">The plugin.</param>
    /// <returns>The standing, or <see langword="null"/>.</returns>
    public PluginStatus? Of(string name)
    {
        lock (_lock)
        {
            return _plugins.GetValueOrDefault(name);
        }
    }

    /// <summary>Counts a newly loaded context among the live ones until it is collected.</summary>
    /// <param name="plugin">The plugin.</param>
    /// <param name="context">A weak reference to its load context.</param>
    public void TrackContext(string plugin, WeakReference context)
    {
        lock (_lock)
        {
            _contexts.Add((plugin, context));
        }
    }
}
