namespace MtlHost.Plugins;

/// <summary>A plugin found in the plugins folder, before anything of it is loaded.</summary>
/// <param name="Name">Plugin name: its subfolder's name, or the DLL's file name without extension.</param>
/// <param name="Directory">Folder holding the plugin DLL and its dependencies (and data).</param>
/// <param name="AssemblyPath">The plugin's main assembly.</param>
public sealed record PluginCandidate(string Name, string Directory, string AssemblyPath)
{
    /// <summary>
    /// The plugin folder that <see cref="Directory"/> is a shadow copy of (hot reload loads copies), or
    /// <see langword="null"/> when the plugin is loaded in place. Messages name paths in this folder: it is the one the
    /// plugin's author edits.
    /// </summary>
    public string? OriginalDirectory { get; init; }
}
