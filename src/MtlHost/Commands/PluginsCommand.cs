using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using MtlHost.Formats;
using MtlHost.Runs;
using MtlHost.Abstractions;
using MtlHost.Abstractions.Messages;
using MtlHost.Cli;
using MtlHost.Core.Encoders;
using MtlHost.Core.Tokenization;
using MtlHost.Core.Training;
using MtlHost.Hosting;
using MtlHost.HotReload;
using MtlHost.Plugins;
using TorchSharp;

namespace MtlHost.Commands;

/// <summary>
/// <c>mtlhost plugins list</c> shows what the plugins folder holds: each plugin, loaded or refused
/// and why, with its tasks. <c>mtlhost plugins check</c> also reads every task's data and exits with
/// 2 when anything would not train. <c>mtlhost plugins list --run DIR</c> shows instead what a watched run
/// (<c>train --watch --out DIR</c>) has loaded, from the status file it keeps in its run folder.
/// </summary>
public sealed class PluginsCommand
{
    private readonly IConfiguration _configuration;
    private readonly ParsedCommand _command;
    private readonly ILogger _logger;

    /// <summary>Creates the command.</summary>
    /// <param name="configuration">Layered configuration.</param>
    /// <param name="command">The parsed command line.</param>
    /// <param name="loggerFactory">Logging.</param>
    public PluginsCommand(IConfiguration configuration, ParsedCommand command, ILoggerFactory loggerFactory)
    {
        _configuration = configuration;
        _command = command;
        _logger = loggerFactory.CreateLogger("MtlHost.Plugins");
    }

    /// <summary>Runs the command.</summary>
    /// <param name="output">Where the listing goes.</param>
    /// <returns>The exit code.</returns>
    /// <exception cref="UsageException">--run names no run folder with a status file, or comes with <c>check</c>.</exception>
    public int Run(TextWriter output)
    {
        var check = _command.SubVerb == "check";
        if (_command.Get("run") is { } run)
        {
            if (check)
            {
                throw new UsageException("mtlhost plugins check: --run works with 'plugins list' only; 'check' loads a plugins folder (--plugins DIR).");
            }
            return ListRun(run, output);
        }
        var directory = HostSettings.ResolvePluginsDirectory(_configuration);
        var encoderName = HostSettings.ReadEncoder(_configuration);
        var config = EncoderCatalog.ConfigOf(encoderName);
        var headOptions = new HeadOptions(config.HiddenSize, config.HiddenDropout);
        using var plugins = PluginSet.Load(new TaskPluginLoader(headOptions, _logger), directory, requireLoaded: false);

        var entries = new List<PluginEntry>();
        var problems = plugins.Result.Refused.Count;
        BertWordPieceTokenizer? tokenizer = null;
        foreach (var plugin in plugins.Result.Loaded)
        {
            var tasks = new List<TaskEntry>();
            foreach (var task in plugin.Tasks)
            {
                var d = task.Descriptor;
                string? dataProblem = null;
                int? train = null, validation = null;
                if (check)
                {
                    tokenizer ??= BertWordPieceTokenizer.FromVocabulary(MiniLmPackage.OpenVocabulary());
                    var factory = new TaskRuntimeFactory(tokenizer, headOptions, torch.CPU, new TrainingOptions(), _logger);
                    try
                    {
                        using var runtime = factory.Create(task, new TaskSource(plugin.Name, plugin.Candidate.Directory,
                            Path.GetFileName(plugin.Candidate.AssemblyPath), plugin.Sha256));
                        train = runtime.Train.Count;
                        validation = runtime.Validation.Count;
                    }
                    catch (Exception e)
                    {
                        dataProblem = e is TaskDataException ? ExceptionChain.MessageWithCauses(e) : $"its dataset adapter threw {ExceptionChain.Describe(e)}";
                        problems++;
                    }
                }
                tasks.Add(new TaskEntry(d.Id, d.Version.ToString(), d.Kind.ToString(), d.Labels, train, validation, dataProblem));
            }
            entries.Add(new PluginEntry(plugin.Name, "loaded", plugin.Candidate.AssemblyPath, plugin.Sha256, null, tasks));
        }
        entries.AddRange(plugins.Result.Refused.Select(r => new PluginEntry(r.Name, "refused", r.Candidate.AssemblyPath, null, r.Reason, [])));
        entries.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));

        if (_command.Has("json"))
        {
            var sdk = new { host = SdkInfo.Version.ToString(3), accepts = SdkCompatibility.AcceptedRange };
            output.WriteLine(JsonSerializer.Serialize(new { directory = plugins.Result.Directory, sdk, plugins = entries }, HostJson.Options));
        }
        else
        {
            output.WriteLine($"plugins folder: {plugins.Result.Directory}");
            output.WriteLine(SdkCompatibility.AcceptedVersions);
            foreach (var entry in entries)
            {
                output.WriteLine($"{entry.Name}: {entry.State}{(entry.Reason is null ? "" : " — " + entry.Reason)}");
                foreach (var task in entry.Tasks)
                {
                    var data = task.Train is null ? "" : $", {task.Train} train / {task.Validation} validation examples";
                    output.WriteLine($"  task {task.Id} {task.Version} {task.Kind} [{string.Join(", ", task.Labels)}]{data}");
                    if (task.DataProblem is not null)
                    {
                        output.WriteLine($"    data problem: {task.DataProblem}");
                    }
                }
            }
        }
        return check && problems > 0 ? 2 : 0;
    }

    // The status a watched run wrote: a file, so it works from another process while the run trains.
    private int ListRun(string run, TextWriter output)
    {
        RunPluginStatus status;
        try
        {
            status = PluginStatusFile.Read(run);
        }
        catch (FileNotFoundException)
        {
            throw new UsageException($"mtlhost plugins list: '{run}' holds no {PluginStatusFile.FileName}; a run started with " +
                                     $"'mtlhost train --watch --out {run}' writes it there on every plugin event.");
        }
        catch (InvalidDataException e)
        {
            throw new UsageException($"mtlhost plugins list: {e.Message}");
        }

        if (_command.Has("json"))
        {
            output.WriteLine(JsonSerializer.Serialize(status, HostJson.Options));
            return 0;
        }
        var standing = status.Finished ? $"finished at step {status.Step}" : $"training, step {status.Step} (or killed: the run had not finished)";
        output.WriteLine($"run {Path.GetFullPath(run)}: process {status.ProcessId}, {standing}; status of {status.WrittenAt:yyyy-MM-dd HH:mm:ss} UTC");
        output.WriteLine($"plugins folder: {status.PluginsDirectory}");
        output.WriteLine($"live plugin load contexts: {status.LiveContexts}; failed unloads: {status.FailedUnloads}; late unloads: {status.LateUnloads}");
        foreach (var plugin in status.Plugins)
        {
            output.WriteLine($"{plugin.Name}: {plugin.State}{(plugin.Version is null ? "" : " " + plugin.Version)} " +
                             $"[{string.Join(", ", plugin.Tasks)}]{(plugin.Reason is null ? "" : " — " + plugin.Reason)}");
        }
        const int Shown = 20;
        output.WriteLine(status.Events.Count > Shown ? $"events (last {Shown} of {status.Events.Count}):" : "events:");
        foreach (var e in status.Events.Skip(Math.Max(0, status.Events.Count - Shown)))
        {
            output.WriteLine($"  {e.At:HH:mm:ss} step {e.Step} {e.Kind} {e.Plugin}{(e.TaskId is null ? "" : "/" + e.TaskId)} ({e.Milliseconds:F0} ms): {e.Message}");
        }
        return 0;
    }

    private sealed record PluginEntry(string Name, string State, string Assembly, string? Sha256, string? Reason, IReadOnlyList<TaskEntry> Tasks);

    private sealed record TaskEntry(string Id, string Version, string Kind, IReadOnlyList<string> Labels, int? Train, int? Validation, string? DataProblem);
}
