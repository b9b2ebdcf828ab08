namespace MtlHost.HotReload;

/// <summary>A plugin's standing in a watched run.</summary>
/// <param name="Name">The plugin.</param>
/// <param name="State">Where it stands.</param>
/// <param name="Version">The version that trains (or last trained), if any.</param>
/// <param name="Sha256">SHA-256 of that version's main assembly.</param>
/// <param name="Tasks">Its task ids.</param>
/// <param name="Reason">Why its newest version was quarantined, if it was.</param>
public sealed record PluginStatus(string Name, PluginRunState State, string? Version, string? Sha256, IReadOnlyList<string> Tasks, string? Reason);
