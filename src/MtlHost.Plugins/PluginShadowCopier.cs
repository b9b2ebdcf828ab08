namespace MtlHost.Plugins;

/// <summary>
/// Copies a plugin folder into a run-scoped temporary folder before it is loaded, one folder per
/// loaded version, so that the original can be overwritten or deleted while the copy is in use
/// (Windows locks a loaded DLL; Linux would otherwise map a file that a rebuild truncates).
/// </summary>
public sealed class PluginShadowCopier : IDisposable
{
    private int _counter;

    /// <summary>Creates the copier with a fresh root folder under <paramref name="root"/> (the system temp folder by default).</summary>
    /// <param name="root">Parent of the run's shadow folder.</param>
    public PluginShadowCopier(string? root = null)
    {
        Root = Path.Combine(root ?? Path.Combine(Path.GetTempPath(), "mtlhost-shadow"),
            $"{Environment.ProcessId}-{Guid.NewGuid():N}"[..20]);
        Directory.CreateDirectory(Root);
    }

    /// <summary>The run's shadow folder; every copy lives below it.</summary>
    public string Root { get; }

    /// <summary>Copies the plugin and returns a candidate that points into the copy.</summary>
    /// <param name="candidate">The plugin as found in the plugins folder.</param>
    /// <returns>The same plugin (same name) in its own new folder, with <see cref="PluginCandidate.OriginalDirectory"/> naming the folder it was copied from.</returns>
    /// <exception cref="IOException">A file of the plugin could not be read (for instance, it is still being written).</exception>
    public PluginCandidate Copy(PluginCandidate candidate)
    {
        var target = Path.Combine(Root, $"{candidate.Name}.{Interlocked.Increment(ref _counter)}");
        Directory.CreateDirectory(target);
        // A subfolder plugin is named after its folder; a DLL directly in the plugins folder is not.
        var isLooseDll = !IsOwnFolder(candidate);
        if (isLooseDll)
        {
            // A DLL directly in the plugins folder: copy it and its own side files, not the whole folder.
            var stem = Path.GetFileNameWithoutExtension(candidate.AssemblyPath);
            foreach (var file in Directory.GetFiles(candidate.Directory, stem + ".*"))
            {
                File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
            }
        }
        else
        {
            PluginFolderCopy.Copy(candidate.Directory, target);
        }
        return new PluginCandidate(candidate.Name, target, Path.Combine(target, Path.GetFileName(candidate.AssemblyPath)))
        {
            OriginalDirectory = candidate.OriginalDirectory ?? candidate.Directory,
        };
    }

    /// <summary>Deletes a copy whose plugin was unloaded; a file still mapped is left for <see cref="Dispose"/>.</summary>
    /// <param name="copy">A candidate returned by <see cref="Copy"/>.</param>
    /// <returns>Whether the copy is gone.</returns>
    public bool Release(PluginCandidate copy) => TryDelete(copy.Directory);

    /// <summary>Deletes the run's shadow folder.</summary>
    public void Dispose() => TryDelete(Root);

    private static bool IsOwnFolder(PluginCandidate candidate) =>
        string.Equals(Path.GetFileName(candidate.Directory.TrimEnd(Path.DirectorySeparatorChar)), candidate.Name, StringComparison.Ordinal);

    private static bool TryDelete(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Windows keeps a DLL of a context that is not yet collected locked; the next clean-up retries.
            return false;
        }
    }
}
