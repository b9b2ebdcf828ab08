namespace MtlHost.Plugins;

/// <summary>Something changed in one plugin of the watched folder (it appeared, changed or disappeared).</summary>
/// <param name="Name">The plugin's name: its subfolder, or its DLL's name without extension.</param>
/// <param name="SettledAt">When its files last changed before they were seen to be stable (UTC).</param>
/// <param name="DetectedAt">When the watcher reported the change (UTC).</param>
public sealed record PluginChange(string Name, DateTime SettledAt, DateTime DetectedAt);
