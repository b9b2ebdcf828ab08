namespace MtlHost.Plugins;

/// <summary>What loading a plugins folder gave: plugins that loaded, and plugins that were refused.</summary>
/// <param name="Directory">The plugins folder.</param>
/// <param name="Loaded">Plugins whose tasks passed validation.</param>
/// <param name="Refused">Plugins that were skipped, each with its reason.</param>
public sealed record PluginLoadResult(string Directory, IReadOnlyList<LoadedPlugin> Loaded, IReadOnlyList<RefusedPlugin> Refused);
