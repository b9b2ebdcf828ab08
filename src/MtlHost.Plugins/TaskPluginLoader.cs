using System.Reflection;
using McMaster.NETCore.Plugins;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MtlHost.Abstractions;
using MtlHost.Abstractions.Messages;
using TorchSharp;

namespace MtlHost.Plugins;

/// <summary>
/// Loads task plugins, each into its own collectible load context with the SDK and TorchSharp
/// shared with the host (one <c>Module</c> type, one native runtime), creates their tasks and
/// validates them. A plugin that fails anything is refused with its reason; the rest load.
/// </summary>
public sealed class TaskPluginLoader
{
    private static readonly Type[] SharedTypes = [typeof(IMtlTask), typeof(torch)];

    private readonly HeadOptions _headOptions;
    private readonly ILogger _logger;

    /// <summary>Creates the loader.</summary>
    /// <param name="headOptions">Encoder shape every head is validated against.</param>
    /// <param name="logger">Receives one event per loaded or refused plugin.</param>
    public TaskPluginLoader(HeadOptions headOptions, ILogger? logger = null)
    {
        _headOptions = headOptions;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Loads every plugin in <paramref name="pluginsDirectory"/>.</summary>
    /// <param name="pluginsDirectory">The plugins folder.</param>
    /// <returns>Loaded and refused plugins. Two plugins offering the same task id: the later one (by name) is refused.</returns>
    /// <exception cref="PluginFolderException">The folder does not exist.</exception>
    public PluginLoadResult LoadAll(string pluginsDirectory)
    {
        var loaded = new List<LoadedPlugin>();
        var refused = new List<RefusedPlugin>();
        var owners = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var candidate in PluginDiscovery.Discover(pluginsDirectory))
        {
            var outcome = Load(candidate);
            if (outcome.Refused is not null)
            {
                refused.Add(outcome.Refused);
                continue;
            }

            var plugin = outcome.Loaded!;
            var clash = plugin.Tasks.Select(t => t.Descriptor.Id).FirstOrDefault(owners.ContainsKey);
            if (clash is not null)
            {
                plugin.Dispose();
                refused.Add(Refuse(candidate, $"task id '{clash}' is already provided by plugin '{owners[clash]}'; task ids must be unique across plugins."));
                continue;
            }
            foreach (var task in plugin.Tasks)
            {
                owners[task.Descriptor.Id] = plugin.Name;
            }
            loaded.Add(plugin);
        }
        return new PluginLoadResult(Path.GetFullPath(pluginsDirectory), loaded, refused);
    }

    /// <summary>Loads one plugin.</summary>
    /// <param name="candidate">The plugin.</param>
    /// <param name="checkHeads">
    /// Whether to run the heads on a dry batch too (<see cref="TaskValidator.ValidateHead"/>). Hot reload loads off the training
    /// thread and passes <see langword="false"/>: building a head draws from torch's generator, which a step in flight is using;
    /// it calls <see cref="ValidateHeads"/> at the step boundary instead.
    /// </param>
    /// <returns>Either the loaded plugin or the refusal.</returns>
    public (LoadedPlugin? Loaded, RefusedPlugin? Refused) Load(PluginCandidate candidate, bool checkHeads = true)
    {
        var incompatibility = SdkCompatibility.Check(candidate.AssemblyPath);
        if (incompatibility is not null)
        {
            return (null, Refuse(candidate, incompatibility));
        }

        PluginLoader? loader = null;
        try
        {
            loader = PluginLoader.CreateFromAssemblyFile(candidate.AssemblyPath, isUnloadable: true, SharedTypes, config =>
            {
                config.PreferSharedTypes = true;
            });
            var assembly = loader.LoadDefaultAssembly();
            var (tasks, problem) = CreateTasks(assembly);
            if (problem is not null)
            {
                loader.Dispose();
                return (null, Refuse(candidate, problem) with { LoadContext = new WeakReference(loader.LoadContext) });
            }

            foreach (var task in tasks)
            {
                var invalid = checkHeads ? TaskValidator.Validate(task, _headOptions) : TaskValidator.ValidateWithoutHead(task);
                if (invalid is not null)
                {
                    loader.Dispose();
                    return (null, Refuse(candidate, invalid) with { LoadContext = new WeakReference(loader.LoadContext) });
                }
            }

            var plugin = new LoadedPlugin(candidate, PluginFileHash.Sha256Of(candidate.AssemblyPath),
                assembly.GetName().Version ?? new Version(0, 0), tasks, loader);
            _logger.LogInformation("Loaded plugin {Plugin} {Version} with tasks {Tasks}", plugin.Name, plugin.AssemblyVersion,
                string.Join(", ", tasks.Select(t => $"{t.Descriptor.Id} {t.Descriptor.Version}")));
            return (plugin, null);
        }
        catch (Exception e)
        {
            loader?.Dispose();
            return (null, Refuse(candidate, $"could not be loaded: {ExceptionChain.Describe(e)}") with
            {
                LoadContext = loader is null ? null : new WeakReference(loader.LoadContext),
            });
        }
    }

    /// <summary>
    /// The head checks <see cref="Load"/> skipped when called with <c>checkHeads: false</c>. Call it where nothing else draws
    /// from torch's generator (on the training thread, between two steps). A plugin that fails them is refused as
    /// <see cref="Load"/> would have refused it: it is disposed, and the refusal holds its load context.
    /// </summary>
    /// <param name="plugin">A plugin loaded without head checks.</param>
    /// <returns>The refusal, or <see langword="null"/> when every head passes.</returns>
    public RefusedPlugin? ValidateHeads(LoadedPlugin plugin)
    {
        foreach (var task in plugin.Tasks)
        {
            if (TaskValidator.ValidateHead(task, _headOptions) is { } invalid)
            {
                plugin.Dispose();
                return Refuse(plugin.Candidate, invalid) with { LoadContext = plugin.LoadContext };
            }
        }
        return null;
    }

    private static (IReadOnlyList<IMtlTask> Tasks, string? Problem) CreateTasks(Assembly assembly)
    {
        Type[] types;
        try
        {
            types = assembly.GetExportedTypes();
        }
        catch (ReflectionTypeLoadException e)
        {
            var first = e.LoaderExceptions.FirstOrDefault(x => x is not null);
            return ([], $"its types could not be loaded ({ExceptionChain.Describe(first ?? e)}); a dependency is probably missing from the plugin folder.");
        }

        var taskTypes = types.Where(t => t is { IsClass: true, IsAbstract: false } && typeof(IMtlTask).IsAssignableFrom(t))
            .OrderBy(t => t.FullName, StringComparer.Ordinal).ToList();
        if (taskTypes.Count == 0)
        {
            return ([], $"'{assembly.GetName().Name}' contains no public class implementing IMtlTask; derive a task from " +
                        "SequenceClassificationTask (or another SDK base class) and make it public.");
        }

        var tasks = new List<IMtlTask>();
        foreach (var type in taskTypes)
        {
            if (type.GetConstructor(Type.EmptyTypes) is null)
            {
                return ([], $"task class {type.FullName} has no public parameterless constructor; add one.");
            }
            try
            {
                tasks.Add((IMtlTask)Activator.CreateInstance(type)!);
            }
            catch (TargetInvocationException e) when (e.InnerException is not null)
            {
                // The whole chain: a constructor that touches a failing type initializer shows only TypeInitializationException.
                return ([], $"the constructor of {type.FullName} threw {ExceptionChain.Describe(e)}");
            }
        }
        return (tasks, null);
    }

    private RefusedPlugin Refuse(PluginCandidate candidate, string reason)
    {
        reason = ShadowCopyPaths.ToOriginal(reason, candidate.Directory, candidate.OriginalDirectory);
        _logger.LogWarning("Refused plugin {Plugin}: {Reason}", candidate.Name, reason);
        return new RefusedPlugin(candidate, reason);
    }
}
