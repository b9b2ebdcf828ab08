namespace MtlHost.Plugins;

/// <summary>Copies a plugin folder with everything below it (DLLs, dependencies, data).</summary>
public static class PluginFolderCopy
{
    /// <summary>Copies <paramref name="source"/> into <paramref name="target"/>, creating it; existing files are not overwritten.</summary>
    /// <param name="source">The plugin folder.</param>
    /// <param name="target">Where the copy goes.</param>
    public static void Copy(string source, string target)
    {
        Directory.CreateDirectory(target);
        foreach (var file in Directory.GetFiles(source))
        {
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        }
        foreach (var directory in Directory.GetDirectories(source))
        {
            Copy(directory, Path.Combine(target, Path.GetFileName(directory)));
        }
    }
}
