using MtlHost.Abstractions.Messages;

namespace MtlHost.Core.Training;

/// <summary>Where a task's code came from, as recorded in checkpoints.</summary>
/// <param name="PluginName">The plugin's name.</param>
/// <param name="PluginDirectory">The folder it was loaded from; data files are resolved against it.</param>
/// <param name="AssemblyFile">File name of the plugin's main assembly.</param>
/// <param name="Sha256">SHA-256 of that assembly.</param>
public sealed record TaskSource(string PluginName, string PluginDirectory, string AssemblyFile, string Sha256)
{
    /// <summary>
    /// The plugin folder that <see cref="PluginDirectory"/> is a shadow copy of (hot reload), or <see langword="null"/>
    /// when the plugin was loaded in place; messages name paths in this folder, the one the plugin's author edits.
    /// </summary>
    public string? OriginalDirectory { get; init; }

    /// <summary><paramref name="message"/> with paths in the shadow copy replaced by the same paths in <see cref="OriginalDirectory"/>.</summary>
    /// <param name="message">A message about this task.</param>
    /// <returns>The message as the plugin's author should read it.</returns>
    public string ForAuthor(string message) => ShadowCopyPaths.ToOriginal(message, PluginDirectory, OriginalDirectory);
}
