using MtlHost.Cli;
using MtlHost.Plugins;

namespace MtlHost.Runs;

/// <summary>The plugins of a command: loaded once, unloaded when the command ends.</summary>
public sealed class PluginSet : IDisposable
{
    private PluginSet(PluginLoadResult result) => Result = result;

    /// <summary>What loading gave.</summary>
    public PluginLoadResult Result { get; }

    /// <summary>Loads the folder; a missing or empty folder, or one whose plugins are all refused, is bad input.</summary>
    /// <param name="loader">The loader.</param>
    /// <param name="directory">The plugins folder.</param>
    /// <param name="requireLoaded">Whether at least one plugin must load.</param>
    /// <returns>The loaded set.</returns>
    /// <exception cref="UsageException">The folder cannot be used.</exception>
    public static PluginSet Load(TaskPluginLoader loader, string directory, bool requireLoaded = true)
    {
        PluginLoadResult result;
        try
        {
            result = loader.LoadAll(directory);
        }
        catch (PluginFolderException e)
        {
            throw new UsageException(e.Message);
        }
        if (result.Loaded.Count == 0 && result.Refused.Count == 0)
        {
            throw new UsageException($"Plugins folder '{result.Directory}' holds no plugin. Put each plugin in a subfolder " +
                                     "(<Name>/<Name>.dll with its dependencies and data), or pass --plugins DIR.");
        }
        if (requireLoaded && result.Loaded.Count == 0)
        {
            throw new UsageException($"No plugin in '{result.Directory}' could be loaded: " +
                                     string.Join("; ", result.Refused.Select(r => $"{r.Name}: {r.Reason}")));
        }
        return new PluginSet(result);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var plugin in Result.Loaded)
        {
            plugin.Dispose();
        }
    }
}
