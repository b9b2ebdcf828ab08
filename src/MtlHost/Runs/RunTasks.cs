using Microsoft.Extensions.Logging;
using MtlHost.Abstractions;
using MtlHost.Abstractions.Messages;
using MtlHost.Cli;
using MtlHost.Core.Distributed;
using MtlHost.Core.Training;
using MtlHost.Hosting;
using MtlHost.HotReload;
using MtlHost.Plugins;

namespace MtlHost.Runs;

/// <summary>
/// The tasks a run starts with, loaded from the plugins folder and prepared (data read, tokenized, heads built), and the
/// plugins and tasks refused on the way. Disposing it disposes every task it started or ended with and unloads the plugins.
/// </summary>
internal sealed class RunTasks : IDisposable
{
    private readonly PluginSet? _plugins;
    private readonly List<TaskRuntime> _ended = [];

    private RunTasks(PluginSet? plugins, HotReloadCoordinator? hotReload, List<TaskRuntime> runtimes, List<RunSummary.Refusal> refused)
    {
        _plugins = plugins;
        HotReload = hotReload;
        Runtimes = runtimes;
        Refused = refused;
    }

    /// <summary>The tasks prepared at start.</summary>
    public IReadOnlyList<TaskRuntime> Runtimes { get; }

    /// <summary>Plugins and tasks that did not join the run, with reasons.</summary>
    public IReadOnlyList<RunSummary.Refusal> Refused { get; }

    /// <summary>The plugins folder's watcher when the run watches it, else <see langword="null"/>.</summary>
    public HotReloadCoordinator? HotReload { get; }

    /// <summary>Loads and prepares every task of the plugins folder.</summary>
    /// <param name="settings">The run's settings.</param>
    /// <param name="watch">Whether the folder is watched for plugin changes.</param>
    /// <param name="loader">Loads plugin DLLs.</param>
    /// <param name="factory">Prepares a task.</param>
    /// <param name="logger">Logging.</param>
    /// <param name="group">
    /// The processes training together: with <paramref name="watch"/>, rank 0 alone reads the plugins folder and sends
    /// the plugins to the others.
    /// </param>
    /// <returns>The tasks.</returns>
    /// <exception cref="UsageException">The folder holds no plugin, or no task can train.</exception>
    public static RunTasks Load(HostSettings settings, bool watch, TaskPluginLoader loader, TaskRuntimeFactory factory, ILogger logger,
        IProcessGroup group)
    {
        var runtimes = new List<TaskRuntime>();
        var refused = new List<RunSummary.Refusal>();
        PluginSet? plugins = null;
        HotReloadCoordinator? hotReload = null;
        try
        {
            if (watch)
            {
                // The run folder keeps the plugins' status current, so 'plugins list --run DIR' can see a running trainer.
                // Rank 0 alone writes the run folder.
                var options = settings.HotReload with { StatusFile = group.IsRoot ? Path.Combine(settings.OutDirectory, PluginStatusFile.FileName) : null };
                hotReload = new HotReloadCoordinator(settings.PluginsDirectory, loader, factory, options, logger, group: group);
                try
                {
                    runtimes.AddRange(hotReload.LoadInitial());
                }
                catch (PluginFolderException e)
                {
                    throw new UsageException(e.Message);
                }
                refused.AddRange(hotReload.Status.Plugins.Where(p => p.State == PluginRunState.Quarantined)
                    .Select(p => new RunSummary.Refusal(p.Name, null, p.Reason ?? "quarantined")));
                if (runtimes.Count == 0 && refused.Count == 0)
                {
                    throw new UsageException($"Plugins folder '{settings.PluginsDirectory}' holds no plugin; with --watch, start with at least one plugin that trains.");
                }
            }
            else
            {
                plugins = PluginSet.Load(loader, settings.PluginsDirectory);
                refused.AddRange(plugins.Result.Refused.Select(r => new RunSummary.Refusal(r.Name, null, r.Reason)));
                Prepare(plugins, factory, runtimes, refused, logger);
            }
            if (runtimes.Count == 0)
            {
                throw new UsageException("No task can train: " + string.Join("; ", refused.Select(r => $"{r.Plugin}{(r.Task is null ? "" : "/" + r.Task)}: {r.Reason}")));
            }
            return new RunTasks(plugins, hotReload, runtimes, refused);
        }
        catch
        {
            runtimes.ForEach(r => r.Dispose());
            hotReload?.Dispose();
            plugins?.Dispose();
            throw;
        }
    }

    /// <summary>Notes the tasks a run ended with (with hot reload not the ones it started with), to dispose them too.</summary>
    /// <param name="tasks">The trainer's tasks at its end.</param>
    public void Ended(IEnumerable<TaskRuntime> tasks) => _ended.AddRange(tasks);

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var runtime in Runtimes.Concat(_ended).Distinct())
        {
            runtime.Dispose();
        }
        HotReload?.Dispose();
        _plugins?.Dispose();
    }

    private static void Prepare(PluginSet plugins, TaskRuntimeFactory factory, List<TaskRuntime> runtimes, List<RunSummary.Refusal> refused, ILogger logger)
    {
        foreach (var plugin in plugins.Result.Loaded)
        {
            var source = new TaskSource(plugin.Name, plugin.Candidate.Directory, Path.GetFileName(plugin.Candidate.AssemblyPath), plugin.Sha256);
            foreach (var task in plugin.Tasks)
            {
                try
                {
                    runtimes.Add(factory.Create(task, source));
                }
                catch (Exception e) when (e is TaskDataException or IOException or UnauthorizedAccessException)
                {
                    var reason = ExceptionChain.MessageWithCauses(e);
                    logger.LogError("Task {Task} of plugin {Plugin} will not train: {Reason}", task.Descriptor.Id, plugin.Name, reason);
                    refused.Add(new RunSummary.Refusal(plugin.Name, task.Descriptor.Id, reason));
                }
                catch (Exception e)
                {
                    var reason = $"its dataset adapter threw {ExceptionChain.Describe(e)}";
                    logger.LogError("Task {Task} of plugin {Plugin} will not train: {Reason}", task.Descriptor.Id, plugin.Name, reason);
                    refused.Add(new RunSummary.Refusal(plugin.Name, task.Descriptor.Id, reason));
                }
            }
        }
    }
}
