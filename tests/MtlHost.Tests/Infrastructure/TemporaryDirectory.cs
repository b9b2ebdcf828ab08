namespace MtlHost.Tests.Infrastructure;

/// <summary>A fresh folder under the system temp folder, deleted on dispose.</summary>
public sealed class TemporaryDirectory : IDisposable
{
    /// <summary>Creates the folder.</summary>
    public TemporaryDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "mtlhost-tests", Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    /// <summary>The folder.</summary>
    public string Path { get; }

    /// <summary>A path inside the folder.</summary>
    /// <param name="parts">Relative path parts.</param>
    /// <returns>The combined path.</returns>
    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    /// <summary>Copies a plugin folder (e.g. artifacts/plugins/Spam) into this folder, under its own name.</summary>
    /// <param name="pluginDirectory">The plugin's folder.</param>
    /// <returns>The copy's path.</returns>
    public string CopyPlugin(string pluginDirectory)
    {
        var target = Combine(System.IO.Path.GetFileName(pluginDirectory.TrimEnd('/', '\\')));
        MtlHost.Plugins.PluginFolderCopy.Copy(pluginDirectory, target);
        return target;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A plugin still mapped by the runtime can hold a file on some systems; the OS cleans temp.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
