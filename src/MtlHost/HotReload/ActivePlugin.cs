using MtlHost.Plugins;

namespace MtlHost.HotReload;

/// <summary>
/// A loaded version of a plugin as the coordinator tracks it. Strings are copied out of the plugin once, so status and
/// events never hold anything of it.
/// </summary>
internal sealed class ActivePlugin(LoadedPlugin plugin, PluginCandidate copy)
{
    /// <summary>The loaded plugin (its load context).</summary>
    public LoadedPlugin Plugin { get; } = plugin;

    /// <summary>The shadow copy it was loaded from.</summary>
    public PluginCandidate Copy { get; } = copy;

    /// <summary>Plugin name.</summary>
    public string Name { get; } = plugin.Name;

    /// <summary>SHA-256 of its main assembly.</summary>
    public string Sha256 { get; } = plugin.Sha256;

    /// <summary>Its (first task's) version.</summary>
    public string Version { get; } = plugin.Tasks.Count > 0 ? plugin.Tasks[0].Descriptor.Version.ToString() : plugin.AssemblyVersion.ToString();

    /// <summary>Its task ids.</summary>
    public IReadOnlyList<string> TaskIds { get; } = plugin.Tasks.Select(t => t.Descriptor.Id).ToArray();
}
