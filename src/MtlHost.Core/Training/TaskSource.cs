namespace MtlHost.Core.Training;

/// <summary>Where a task's code came from, as recorded in checkpoints.</summary>
/// <param name="PluginName">The plugin's name.</param>
/// <param name="PluginDirectory">The folder it was loaded from; data files are resolved against it.</param>
/// <param name="AssemblyFile">File name of the plugin's main assembly.</param>
/// <param name="Sha256">SHA-256 of that assembly.</param>
public sealed record TaskSource(string PluginName, string PluginDirectory, string AssemblyFile, string Sha256);
