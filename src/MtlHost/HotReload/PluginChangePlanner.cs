using MtlHost.Plugins;

namespace MtlHost.HotReload;

/// <summary>
/// Turns "plugin NAME changed on disk" into what to do with it — add, replace, remove — from the plugins folder as it is
/// now and whether a version of the plugin is in the run. It reads the folder only; the coordinator applies the plan.
/// </summary>
internal static class PluginChangePlanner
{
    /// <summary>Plans the change of one plugin.</summary>
    /// <param name="directory">The plugins folder.</param>
    /// <param name="name">The plugin whose files changed.</param>
    /// <param name="inRun">Whether a version of it is in the run.</param>
    /// <returns>The plan.</returns>
    public static PlannedPluginChange Plan(string directory, string name, bool inRun) => Plan(name, Find(directory, name), inRun);

    /// <summary>Plans the change of one plugin whose files were already looked up (<see cref="Find"/>).</summary>
    /// <param name="name">The plugin whose files changed.</param>
    /// <param name="candidate">Its files, or <see langword="null"/> when they are gone.</param>
    /// <param name="inRun">Whether a version of it is in the run.</param>
    /// <returns>The plan.</returns>
    public static PlannedPluginChange Plan(string name, PluginCandidate? candidate, bool inRun)
    {
        if (candidate is null)
        {
            return new PlannedPluginChange(inRun ? PlannedChangeKind.Remove : PlannedChangeKind.Forget, name, null);
        }
        return new PlannedPluginChange(inRun ? PlannedChangeKind.Replace : PlannedChangeKind.Add, name, candidate);
    }

    /// <summary>
    /// The plugin's files as they are now. A folder whose DLL is gone (deleted, or half-way through a copy) counts as no
    /// plugin; so does a folder that vanished.
    /// </summary>
    /// <param name="directory">The plugins folder.</param>
    /// <param name="name">The plugin.</param>
    /// <returns>Its files, or <see langword="null"/>.</returns>
    public static PluginCandidate? Find(string directory, string name)
    {
        try
        {
            return PluginDiscovery.Discover(directory).FirstOrDefault(c => c.Name == name && File.Exists(c.AssemblyPath));
        }
        catch (PluginFolderException)
        {
            return null;
        }
    }
}
