namespace MtlHost.Plugins;

/// <summary>A plugin that was not loaded, and why.</summary>
/// <param name="Candidate">Where it was found.</param>
/// <param name="Reason">What is wrong, phrased so that the fix is clear.</param>
public sealed record RefusedPlugin(PluginCandidate Candidate, string Reason)
{
    /// <summary>Plugin name.</summary>
    public string Name => Candidate.Name;
}
