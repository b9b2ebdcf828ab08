using MtlHost.Plugins;

namespace MtlHost.HotReload;

/// <summary>One plugin's change, as planned from the folder and the run, before anything is loaded or unloaded.</summary>
/// <param name="Kind">What to do.</param>
/// <param name="Name">The plugin.</param>
/// <param name="Candidate">Its files on disk, for <see cref="PlannedChangeKind.Add"/> and <see cref="PlannedChangeKind.Replace"/>.</param>
internal sealed record PlannedPluginChange(PlannedChangeKind Kind, string Name, PluginCandidate? Candidate);
