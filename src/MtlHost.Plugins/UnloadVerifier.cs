using System.Diagnostics;

namespace MtlHost.Plugins;

/// <summary>
/// Proves that an unloaded plugin's load context is really gone: a collectible context is freed only
/// when nothing references anything of it any more (an object, a delegate, a cached Type), so the
/// verifier holds it weakly and collects garbage until it dies or the wait runs out.
/// </summary>
public static class UnloadVerifier
{
    /// <summary>Waits, collecting garbage, until <paramref name="context"/> is freed or <paramref name="timeout"/> passes.</summary>
    /// <param name="context">A weak reference to the load context.</param>
    /// <param name="timeout">The longest wait.</param>
    /// <returns>Whether it was freed, and after how long.</returns>
    public static (bool Collected, TimeSpan Elapsed) WaitForCollection(WeakReference context, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        var pause = 1;
        while (context.IsAlive)
        {
            if (clock.Elapsed >= timeout)
            {
                return (false, clock.Elapsed);
            }
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            if (!context.IsAlive)
            {
                break;
            }
            // Unloading finishes in steps (the context's own finalizer runs after its assemblies'); back off a little.
            Thread.Sleep(pause);
            pause = Math.Min(pause * 2, 100);
        }
        return (true, clock.Elapsed);
    }

    /// <summary>
    /// Checks every <paramref name="interval"/>, with one full collection each time, whether <paramref name="context"/> was freed;
    /// for watching, at little cost, a context that outlived <see cref="WaitForCollection(WeakReference, TimeSpan)"/>.
    /// </summary>
    /// <param name="context">A weak reference to the load context.</param>
    /// <param name="timeout">The longest wait.</param>
    /// <param name="interval">Time between two checks.</param>
    /// <param name="cancellationToken">Ends the wait early (then the result says not collected).</param>
    /// <returns>Whether it was freed, and after how long.</returns>
    public static (bool Collected, TimeSpan Elapsed) WaitForCollection(WeakReference context, TimeSpan timeout, TimeSpan interval,
        CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (!cancellationToken.IsCancellationRequested && clock.Elapsed < timeout)
        {
            Thread.Sleep(interval);
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            if (!context.IsAlive)
            {
                return (true, clock.Elapsed);
            }
        }
        return (!context.IsAlive, clock.Elapsed);
    }
}
