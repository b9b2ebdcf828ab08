namespace MtlHost.Plugins;

/// <summary>
/// Finds plugins in a folder. Each subfolder is one plugin whose main assembly is
/// <c>&lt;subfolder&gt;/&lt;subfolder&gt;.dll</c> (or the subfolder's only DLL); each DLL directly in the
/// folder is a plugin by itself.
/// </summary>
public static class PluginDiscovery
{
    /// <summary>Lists the plugins in <paramref name="pluginsDirectory"/>, sorted by name.</summary>
    /// <param name="pluginsDirectory">The plugins folder.</param>
    /// <returns>One candidate per plugin; a subfolder whose main DLL cannot be told is listed with a missing path.</returns>
    /// <exception cref="PluginFolderException">The folder does not exist.</exception>
    public static IReadOnlyList<PluginCandidate> Discover(string pluginsDirectory)
    {
        var full = Path.GetFullPath(pluginsDirectory);
        if (!Directory.Exists(full))
        {
            throw new PluginFolderException(
                $"Plugins folder '{full}' does not exist. Build the sample plugins with 'dotnet build' " +
                "(they go to artifacts/plugins/), or pass --plugins DIR pointing at a folder of plugin DLLs.");
        }

        var candidates = new List<PluginCandidate>();
        foreach (var directory in Directory.EnumerateDirectories(full))
        {
            var name = Path.GetFileName(directory);
            if (name.StartsWith('.'))
            {
                continue;
            }
            candidates.Add(new PluginCandidate(name, directory, MainAssemblyOf(directory, name)));
        }
        foreach (var dll in Directory.EnumerateFiles(full, "*.dll"))
        {
            candidates.Add(new PluginCandidate(Path.GetFileNameWithoutExtension(dll), full, dll));
        }
        candidates.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return candidates;
    }

    private static string MainAssemblyOf(string directory, string name)
    {
        var conventional = Path.Combine(directory, name + ".dll");
        if (File.Exists(conventional))
        {
            return conventional;
        }
        var dlls = Directory.GetFiles(directory, "*.dll");
        return dlls.Length == 1 ? dlls[0] : conventional;
    }
}
