namespace MtlHost.Plugins;

/// <summary>A plugin that was not loaded, and why.</summary>
/// <param name="Candidate">Where it was found.</param>
/// <param name="Reason">What is wrong, phrased so that the fix is clear.</param>
public sealed record RefusedPlugin(PluginCandidate Candidate, string Reason)
{
    /// <summary>
    /// The load context the plugin was loaded into before it was refused (already unloading), held
    /// weakly so that its collection can be proven; <see langword="null"/> when it was refused before loading.
    /// </summary>
    public WeakReference? LoadContext { get; init; }

    /// <summary>Plugin name.</summary>
    public string Name => Candidate.Name;
}
