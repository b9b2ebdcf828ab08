using System.Collections.Concurrent;

namespace MtlHost.Plugins;

/// <summary>
/// Watches a plugins folder and reports, per plugin, that it appeared, changed or disappeared.
/// File-system events only wake it up: what it reports comes from comparing each plugin's files
/// (path, size, time) with what it saw before, once they have stopped changing for the debounce
/// interval — so a copy of many files is one change, and a missed or duplicated event changes nothing.
/// A periodic rescan covers file systems whose events are unreliable (network shares, containers).
/// Changes wait in a thread-safe queue for the training thread to take them at a safe point.
/// </summary>
public sealed class PluginFolderWatcher : IDisposable
{
    private readonly string _directory;
    private readonly TimeSpan _debounce;
    private readonly TimeSpan _pollInterval;
    private readonly ConcurrentQueue<PluginChange> _changes = new();
    private readonly SemaphoreSlim _reported = new(0);
    private readonly Dictionary<string, string> _known;
    private readonly Dictionary<string, (string Fingerprint, DateTime Since)> _unsettled = new(StringComparer.Ordinal);
    private readonly FileSystemWatcher? _watcher;
    private readonly Thread _thread;
    private readonly ManualResetEventSlim _stop = new();
    private readonly TimeSpan _tick;
    private readonly object _scanLock = new();
    private DateTime _lastEvent = DateTime.MinValue;
    private DateTime _lastScan;
    private volatile bool _dirty;
    private bool _disposed;

    /// <summary>Starts watching; plugins present now are the baseline and are not reported.</summary>
    /// <param name="directory">The plugins folder.</param>
    /// <param name="debounce">How long a plugin's files must stay unchanged before the change is reported.</param>
    /// <param name="pollInterval">How often to rescan without any event.</param>
    public PluginFolderWatcher(string directory, TimeSpan debounce, TimeSpan pollInterval)
    {
        _directory = Path.GetFullPath(directory);
        _debounce = debounce;
        _pollInterval = pollInterval;
        _known = Fingerprints() ?? new Dictionary<string, string>(StringComparer.Ordinal);
        _lastScan = DateTime.UtcNow;
        try
        {
            _watcher = new FileSystemWatcher(_directory)
            {
                IncludeSubdirectories = true,
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size,
            };
            _watcher.Changed += OnEvent;
            _watcher.Created += OnEvent;
            _watcher.Deleted += OnEvent;
            _watcher.Renamed += OnEvent;
            _watcher.Error += (_, _) => _dirty = true;
            _watcher.EnableRaisingEvents = true;
        }
        catch (Exception e) when (e is IOException or ArgumentException or PlatformNotSupportedException)
        {
            // No events (for instance, the inotify limit is reached): the periodic rescan still sees every change.
            _watcher = null;
        }
        _tick = TimeSpan.FromMilliseconds(Math.Clamp(debounce.TotalMilliseconds / 4, 5, 50));
        // Its own thread, not a timer: a busy thread pool (training uses every core) would delay the scans by seconds.
        _thread = new Thread(Loop) { IsBackground = true, Name = "mtlhost-plugin-watcher" };
        _thread.Start();
    }

    /// <summary>The watched folder.</summary>
    public string Directory => _directory;

    /// <summary>Whether file-system events are in use (otherwise only the periodic rescan is).</summary>
    public bool UsesEvents => _watcher is not null;

    /// <summary>Takes every change reported so far, oldest first.</summary>
    /// <returns>The changes; several of the same plugin are kept (the consumer looks at the folder as it is now).</returns>
    public IReadOnlyList<PluginChange> TakeChanges()
    {
        var taken = new List<PluginChange>();
        while (_changes.TryDequeue(out var change))
        {
            taken.Add(change);
        }
        return taken;
    }

    /// <summary>Waits until at least one change is waiting in the queue, or <paramref name="timeout"/> passes.</summary>
    /// <param name="timeout">The longest wait.</param>
    /// <returns>Whether a change is waiting.</returns>
    public bool WaitForChanges(TimeSpan timeout)
    {
        if (!_changes.IsEmpty)
        {
            return true;
        }
        var deadline = DateTime.UtcNow + timeout;
        while (_changes.IsEmpty)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                return false;
            }
            _reported.Wait(left < TimeSpan.FromMilliseconds(100) ? left : TimeSpan.FromMilliseconds(100));
        }
        return true;
    }

    /// <summary>Rescans now, without waiting for an event; a change still in progress is reported once settled.</summary>
    public void Rescan() => Scan(DateTime.UtcNow);

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_scanLock)
        {
            _disposed = true;
        }
        _stop.Set();
        _thread.Join();
        _stop.Dispose();
        _watcher?.Dispose();
        _reported.Dispose();
    }

    private void OnEvent(object sender, FileSystemEventArgs e)
    {
        _lastEvent = DateTime.UtcNow;
        _dirty = true;
    }

    private void Loop()
    {
        while (!_stop.Wait(_tick))
        {
            Tick();
        }
    }

    private void Tick()
    {
        var now = DateTime.UtcNow;
        if (_dirty || _unsettled.Count > 0 || now - _lastScan >= _pollInterval)
        {
            Scan(now);
        }
    }

    private void Scan(DateTime now)
    {
        if (!Monitor.TryEnter(_scanLock))
        {
            return;
        }
        try
        {
            if (_disposed)
            {
                return;
            }
            _dirty = false;
            _lastScan = now;
            var current = Fingerprints();
            if (current is null)
            {
                _dirty = true;
                return;
            }
            foreach (var name in current.Keys.Union(_known.Keys).Union(_unsettled.Keys).ToList())
            {
                current.TryGetValue(name, out var fingerprint);
                _known.TryGetValue(name, out var known);
                fingerprint ??= "";
                known ??= "";
                if (fingerprint == known)
                {
                    _unsettled.Remove(name);
                    continue;
                }
                // A plugin is reported once its files have looked the same for the debounce interval.
                if (!_unsettled.TryGetValue(name, out var pending) || pending.Fingerprint != fingerprint)
                {
                    _unsettled[name] = (fingerprint, now);
                    continue;
                }
                if (now - pending.Since < _debounce || now - _lastEvent < _debounce)
                {
                    continue;
                }
                _unsettled.Remove(name);
                if (fingerprint.Length == 0)
                {
                    _known.Remove(name);
                }
                else
                {
                    _known[name] = fingerprint;
                }
                _changes.Enqueue(new PluginChange(name, pending.Since, now));
                _reported.Release();
            }
        }
        finally
        {
            Monitor.Exit(_scanLock);
        }
    }

    // One fingerprint per plugin: every file's relative path, size and last write time.
    private Dictionary<string, string>? Fingerprints()
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            foreach (var directory in System.IO.Directory.EnumerateDirectories(_directory))
            {
                var name = Path.GetFileName(directory);
                if (name.StartsWith('.'))
                {
                    continue;
                }
                var files = new DirectoryInfo(directory).EnumerateFiles("*", SearchOption.AllDirectories)
                    .Select(f => $"{Path.GetRelativePath(directory, f.FullName)}|{f.Length}|{f.LastWriteTimeUtc.Ticks}")
                    .Order(StringComparer.Ordinal);
                // An empty folder still counts as present, so that deleting its last file is seen.
                result[name] = "dir;" + string.Join(";", files);
            }
            foreach (var dll in new DirectoryInfo(_directory).EnumerateFiles("*.dll"))
            {
                result[Path.GetFileNameWithoutExtension(dll.Name)] = $"dll;{dll.Length}|{dll.LastWriteTimeUtc.Ticks}";
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A folder deleted while being listed: the next scan sees the settled state.
            return null;
        }
        return result;
    }
}
