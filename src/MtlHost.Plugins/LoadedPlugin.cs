using McMaster.NETCore.Plugins;
using MtlHost.Abstractions;

namespace MtlHost.Plugins;

/// <summary>
/// A plugin whose tasks passed validation, living in its own collectible load context.
/// Disposing it unloads the context; the host must first drop every object of the plugin.
/// </summary>
public sealed class LoadedPlugin : IDisposable
{
    private readonly PluginLoader _loader;

    internal LoadedPlugin(PluginCandidate candidate, string sha256, Version assemblyVersion, IReadOnlyList<IMtlTask> tasks, PluginLoader loader)
    {
        Candidate = candidate;
        Sha256 = sha256;
        AssemblyVersion = assemblyVersion;
        Tasks = tasks;
        _loader = loader;
        LoadContext = new WeakReference(loader.LoadContext);
    }

    /// <summary>Where the plugin was found.</summary>
    public PluginCandidate Candidate { get; }

    /// <summary>Plugin name.</summary>
    public string Name => Candidate.Name;

    /// <summary>SHA-256 of the main assembly, lower-case hex; checkpoints record it.</summary>
    public string Sha256 { get; }

    /// <summary>Version of the main assembly.</summary>
    public Version AssemblyVersion { get; }

    /// <summary>The plugin's validated tasks.</summary>
    public IReadOnlyList<IMtlTask> Tasks { get; }

    /// <summary>
    /// The plugin's load context, held weakly: after <see cref="Dispose"/> and once the host dropped
    /// everything of the plugin, the garbage collector frees it. <see cref="UnloadVerifier"/> proves it.
    /// </summary>
    public WeakReference LoadContext { get; }

    /// <summary>Starts unloading the plugin's load context; it is freed once nothing references its objects.</summary>
    public void Dispose() => _loader.Dispose();
}
