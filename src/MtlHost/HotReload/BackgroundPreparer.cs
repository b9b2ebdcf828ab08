using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using MtlHost.Plugins;

namespace MtlHost.HotReload;

/// <summary>
/// Takes the watcher's changes as soon as they settle and prepares each (shadow copy, load, data) on a thread of its own,
/// so that the training thread finds them ready at the next step boundary instead of preparing them there. One thread,
/// one change at a time: changes become ready in the order the watcher reported them, and are applied in that order.
/// </summary>
internal sealed class BackgroundPreparer : IDisposable
{
    private readonly PluginFolderWatcher _watcher;
    private readonly Func<string, CancellationToken, PreparedChange> _prepare;
    private readonly ILogger _logger;
    private readonly ConcurrentQueue<PreparedChange> _ready = new();
    private readonly SemaphoreSlim _readySignal = new(0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;

    /// <summary>Starts preparing the watcher's changes.</summary>
    /// <param name="watcher">Reports the plugins folder's changes; this takes them all from now on.</param>
    /// <param name="prepare">Prepares one plugin's change (it must not change the run).</param>
    /// <param name="logger">Receives a preparation that threw where it should have reported.</param>
    public BackgroundPreparer(PluginFolderWatcher watcher, Func<string, CancellationToken, PreparedChange> prepare, ILogger logger)
    {
        _watcher = watcher;
        _prepare = prepare;
        _logger = logger;
        // Its own thread, not the pool: training keeps the cores busy, and a slow adapter must not hold a pool thread.
        _thread = new Thread(Loop) { IsBackground = true, Name = "mtlhost-plugin-preparer" };
        _thread.Start();
    }

    /// <summary>Takes every change ready so far, in the order they were reported.</summary>
    /// <returns>The changes.</returns>
    public IReadOnlyList<PreparedChange> TakeReady()
    {
        var taken = new List<PreparedChange>();
        while (_ready.TryDequeue(out var change))
        {
            taken.Add(change);
        }
        return taken;
    }

    /// <summary>Waits until a change is ready to apply, or <paramref name="timeout"/> passes.</summary>
    /// <param name="timeout">The longest wait.</param>
    /// <returns>Whether a change is ready.</returns>
    public bool WaitForReady(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (_ready.IsEmpty)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                return false;
            }
            _readySignal.Wait(left < TimeSpan.FromMilliseconds(100) ? left : TimeSpan.FromMilliseconds(100));
        }
        return true;
    }

    /// <summary>Stops, abandoning a preparation in progress (a hung adapter is not waited for).</summary>
    /// <returns>The changes prepared but not taken; the caller discards them.</returns>
    public IReadOnlyList<PreparedChange> Stop()
    {
        _stop.Cancel();
        _thread.Join(TimeSpan.FromSeconds(10));
        return TakeReady();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Stop();
        _stop.Dispose();
        _readySignal.Dispose();
    }

    private void Loop()
    {
        var token = _stop.Token;
        while (!token.IsCancellationRequested)
        {
            if (!_watcher.WaitForChanges(TimeSpan.FromMilliseconds(200)))
            {
                continue;
            }
            // As the training thread used to: several changes of one plugin taken together are one, the folder as it is now.
            foreach (var name in _watcher.TakeChanges().Select(c => c.Name).Distinct(StringComparer.Ordinal))
            {
                if (token.IsCancellationRequested)
                {
                    return;
                }
                Enqueue(name, token);
            }
        }
    }

    private void Enqueue(string name, CancellationToken token)
    {
        PreparedChange change;
        try
        {
            change = _prepare(name, token);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            return;
        }
        catch (Exception e)
        {
            // The preparation reports every plugin fault itself; this is a host bug, and must not end the thread.
            _logger.LogError(e, "Preparing plugin {Plugin} failed unexpectedly; it will be retried when it changes again", name);
            return;
        }
        _ready.Enqueue(change);
        _readySignal.Release();
    }
}
