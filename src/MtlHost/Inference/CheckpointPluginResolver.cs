using MtlHost.Core.Checkpoints;
using MtlHost.Plugins;

namespace MtlHost.Inference;

/// <summary>
/// Finds and loads the plugin a checkpoint's task was trained with: by folder and DLL name, or by DLL name and SHA-256
/// when the folder was renamed; refuses any other SHA-256, and loads a shadow copy.
/// </summary>
internal static class CheckpointPluginResolver
{
    /// <summary>The plugin candidates of a plugins folder.</summary>
    /// <exception cref="CheckpointException">The folder cannot be listed.</exception>
    internal static IReadOnlyList<PluginCandidate> Discover(string pluginsDirectory)
    {
        try
        {
            return PluginDiscovery.Discover(pluginsDirectory);
        }
        catch (PluginFolderException e)
        {
            throw new CheckpointException(e.Message, e);
        }
    }

    /// <summary>Loads a shadow copy of the plugin a task was trained with.</summary>
    /// <exception cref="CheckpointException">The plugin is missing, has another SHA-256, changed while copied, or was refused.</exception>
    internal static LoadedPlugin LoadPlugin(CheckpointManifest.TaskEntry entry, IReadOnlyList<PluginCandidate> candidates, string pluginsDirectory,
        TaskPluginLoader loader, PluginShadowCopier shadow) =>
        Load(entry, Find(entry, candidates, pluginsDirectory), loader, shadow);

    /// <summary>The plugin in the plugins folder a task was trained with, checked by SHA-256.</summary>
    /// <exception cref="CheckpointException">The plugin is missing or has another SHA-256.</exception>
    internal static PluginCandidate Find(CheckpointManifest.TaskEntry entry, IReadOnlyList<PluginCandidate> candidates, string pluginsDirectory)
    {
        var named = candidates.FirstOrDefault(c => c.Name == entry.Plugin && File.Exists(c.AssemblyPath)
                                                   && Path.GetFileName(c.AssemblyPath) == entry.PluginAssembly);
        // A plugin folder may have been renamed: any DLL of the same file name and hash is the same plugin.
        var candidate = named ?? candidates.FirstOrDefault(c => Path.GetFileName(c.AssemblyPath) == entry.PluginAssembly && File.Exists(c.AssemblyPath)
                                                                && PluginFileHash.Sha256Of(c.AssemblyPath) == entry.PluginSha256);
        if (candidate is null)
        {
            throw new CheckpointException(
                $"Task '{entry.Id}' needs plugin '{entry.Plugin}' ({entry.PluginAssembly}, SHA-256 {entry.PluginSha256}), which is not in the plugins folder " +
                $"'{Path.GetFullPath(pluginsDirectory)}'. Pass --plugins with the folder the checkpoint was trained with, or rebuild the plugin from the same source at the same commit.");
        }
        var sha = PluginFileHash.Sha256Of(candidate.AssemblyPath);
        if (sha != entry.PluginSha256)
        {
            throw new CheckpointException(
                $"Task '{entry.Id}': plugin file '{candidate.AssemblyPath}' has SHA-256 {sha}, but the checkpoint was trained with SHA-256 {entry.PluginSha256}. " +
                "The plugin changed since the checkpoint was written, so its head may not fit. Use the checkpoint's plugins (the DLL it was trained with, " +
                "--plugins DIR), rebuild the plugin from the same source at the same commit (builds embed the commit id, so a new commit changes the hash), " +
                "or train a new checkpoint.");
        }
        return candidate;
    }

    /// <summary>Loads a shadow copy of a plugin <see cref="Find"/> found.</summary>
    /// <exception cref="CheckpointException">The plugin changed while copied, or was refused.</exception>
    internal static LoadedPlugin Load(CheckpointManifest.TaskEntry entry, PluginCandidate candidate, TaskPluginLoader loader, PluginShadowCopier shadow)
    {
        // A copy: training in the same process may overwrite the plugin folder while the predictor still serves.
        var copy = shadow.Copy(candidate);
        if (PluginFileHash.Sha256Of(copy.AssemblyPath) != entry.PluginSha256)
        {
            throw new CheckpointException($"Task '{entry.Id}': plugin file '{candidate.AssemblyPath}' changed while it was being loaded; try again.");
        }
        var (plugin, refused) = loader.Load(copy);
        return plugin ?? throw new CheckpointException($"Task '{entry.Id}': plugin '{entry.Plugin}' was refused: {refused!.Reason}");
    }
}
