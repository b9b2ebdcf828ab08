namespace MtlHost.HotReload;

/// <summary>One plugin's change, taken from the watcher and made ready to apply at the next step boundary.</summary>
/// <param name="Name">The plugin.</param>
/// <param name="Preparation">The version found in the folder, prepared; <see langword="null"/> when the plugin's files are gone.</param>
internal sealed record PreparedChange(string Name, PluginPreparation? Preparation);
