namespace MtlHost.Plugins;

/// <summary>The plugins folder cannot be used at all (it is missing, or holds no plugin).</summary>
public sealed class PluginFolderException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong and how to fix it.</param>
    public PluginFolderException(string message) : base(message)
    {
    }
}
