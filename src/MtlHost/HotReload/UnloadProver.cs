using Microsoft.Extensions.Logging;
using MtlHost.Plugins;

namespace MtlHost.HotReload;

/// <summary>
/// Proves, off the training thread, that unloaded plugin versions are collected: collects garbage until a context dies
/// (then deletes its shadow copy and reports <see cref="PluginEventKind.Unloaded"/>) or the wait runs out. A context
/// still alive then is reported at once (<see cref="PluginEventKind.UnloadFailed"/>: never a silent leak) and watched on,
/// at a slow pace, for a while: if it goes after all (a busy machine, a finalizer that ran late),
/// <see cref="PluginEventKind.UnloadedLate"/> says so.
/// </summary>
internal sealed class UnloadProver : IDisposable
{
    // After a failed unload, how often the context is checked again (each check is a full, blocking collection).
    private static readonly TimeSpan LateCheckInterval = TimeSpan.FromSeconds(2);

    private readonly HotReloadOptions _options;
    private readonly PluginShadowCopier _shadow;
    private readonly Action<PluginEventKind, int, string, string, double, string, LogLevel> _report;
    private readonly List<Task> _unloads = [];
    private readonly CancellationTokenSource _stopped = new();

    /// <summary>Creates the prover.</summary>
    /// <param name="options">The unload timeout and how long failed unloads are watched on.</param>
    /// <param name="shadow">Deletes a version's shadow copy once its context is collected.</param>
    /// <param name="report">Records an event: kind, step, plugin, version, milliseconds, message, log level.</param>
    public UnloadProver(HotReloadOptions options, PluginShadowCopier shadow, Action<PluginEventKind, int, string, string, double, string, LogLevel> report)
    {
        _options = options;
        _shadow = shadow;
        _report = report;
    }

    /// <summary>Starts proving that <paramref name="context"/> is collected; returns at once.</summary>
    /// <param name="name">The plugin.</param>
    /// <param name="version">The unloaded version.</param>
    /// <param name="context">A weak reference to its load context, already told to unload.</param>
    /// <param name="copy">Its shadow copy.</param>
    /// <param name="step">The step it was unloaded at.</param>
    public void Prove(string name, string version, WeakReference context, PluginCandidate copy, int step)
    {
        var timeout = _options.UnloadTimeout;
        var stopped = _stopped.Token;
        var unload = Task.Factory.StartNew(() =>
        {
            var (collected, elapsed) = UnloadVerifier.WaitForCollection(context, timeout);
            if (collected)
            {
                _shadow.Release(copy);
                _report(PluginEventKind.Unloaded, step, name, version, elapsed.TotalMilliseconds,
                    $"version {version} unloaded; its load context was collected", LogLevel.Information);
                return;
            }
            _report(PluginEventKind.UnloadFailed, step, name, version, elapsed.TotalMilliseconds,
                $"version {version} was unloaded but its load context is still alive after {elapsed.TotalSeconds:0.#} s: the host or a thread " +
                "still references something of the plugin (an object, a delegate, a running thread). It leaks until the host exits " +
                "(an UnloadedLate event follows if it goes later after all).", LogLevel.Error);
            // Not among the unloads WaitAll waits for: the failure is already reported, this only corrects it.
            Task.Factory.StartNew(() =>
            {
                var late = UnloadVerifier.WaitForCollection(context, _options.LateUnloadWatch, LateCheckInterval, stopped);
                if (late.Collected)
                {
                    _shadow.Release(copy);
                    var total = elapsed + late.Elapsed;
                    _report(PluginEventKind.UnloadedLate, step, name, version, total.TotalMilliseconds,
                        $"version {version} unloaded late; its load context was collected {total.TotalSeconds:0.#} s after the unload, " +
                        $"later than the {timeout.TotalSeconds:0.#} s wait", LogLevel.Warning);
                }
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        lock (_unloads)
        {
            _unloads.RemoveAll(t => t.IsCompleted);
            _unloads.Add(unload);
        }
    }

    /// <summary>Waits for every unload in progress to be proven or reported as failed (not for the late watches).</summary>
    /// <param name="timeout">The longest wait.</param>
    /// <returns>Whether they all finished.</returns>
    public bool WaitAll(TimeSpan timeout)
    {
        Task[] pending;
        lock (_unloads)
        {
            pending = _unloads.ToArray();
        }
        return Task.WaitAll(pending, timeout);
    }

    /// <summary>Ends the late watches.</summary>
    public void Dispose()
    {
        _stopped.Cancel();
        _stopped.Dispose();
    }
}
