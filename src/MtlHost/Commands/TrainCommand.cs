using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using MtlHost.Abstractions;
using MtlHost.Cli;
using MtlHost.Core.Checkpoints;
using MtlHost.Core.Devices;
using MtlHost.Core.Encoders;
using MtlHost.Core.Sampling;
using MtlHost.Core.Tokenization;
using MtlHost.Core.Training;
using MtlHost.Hosting;
using MtlHost.HotReload;
using MtlHost.Plugins;
using TorchSharp;

namespace MtlHost.Commands;

/// <summary>
/// <c>mtlhost train</c>: loads the plugins folder, prepares every task, trains them jointly on one
/// shared encoder, evaluates, writes a checkpoint and prints per-task results. With <c>--watch</c>
/// it runs its step budget while watching the plugins folder, and applies plugin changes between steps.
/// </summary>
public sealed class TrainCommand
{
    private readonly IConfiguration _configuration;
    private readonly ParsedCommand _command;
    private readonly ILogger _logger;

    /// <summary>Creates the command.</summary>
    /// <param name="configuration">Layered configuration.</param>
    /// <param name="command">The parsed command line.</param>
    /// <param name="loggerFactory">Logging.</param>
    public TrainCommand(IConfiguration configuration, ParsedCommand command, ILoggerFactory loggerFactory)
    {
        _configuration = configuration;
        _command = command;
        _logger = loggerFactory.CreateLogger("MtlHost.Train");
    }

    private static void Freeze(BertEncoder encoder, TrainingOptions options)
    {
        if (options.FreezeEncoder)
        {
            foreach (var parameter in encoder.parameters())
            {
                parameter.requires_grad = false;
            }
        }
        else if (options.FreezeLayers > 0)
        {
            if (options.FreezeLayers > encoder.Config.LayerCount)
            {
                throw new UsageException($"--freeze-layers {options.FreezeLayers}: the encoder has only {encoder.Config.LayerCount} layers.");
            }
            encoder.FreezeBottom(options.FreezeLayers);
        }
    }

    /// <summary>Runs the command.</summary>
    /// <param name="output">Where results go (standard output).</param>
    /// <param name="cancellationToken">Stops training after the current step; results are still evaluated and saved.</param>
    /// <returns>The exit code.</returns>
    /// <exception cref="UsageException">Bad options or bad input.</exception>
    public int Run(TextWriter output, CancellationToken cancellationToken)
    {
        if (_command.Has("single-task"))
        {
            throw new UsageException("--single-task (single-task baselines) is not available in this version yet; run without it.");
        }

        var settings = HostSettings.Read(_configuration);
        torch.Device device;
        try
        {
            device = DeviceSelector.Resolve(settings.Device);
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message);
        }

        var encoderConfig = EncoderCatalog.ConfigOf(settings.Encoder);
        var headOptions = new HeadOptions(encoderConfig.HiddenSize, encoderConfig.HiddenDropout);
        var loader = new TaskPluginLoader(headOptions, _logger);
        torch.manual_seed(settings.Training.Seed);
        var tokenizer = BertWordPieceTokenizer.FromVocabulary(MiniLmPackage.OpenVocabulary());
        var factory = new TaskRuntimeFactory(tokenizer, headOptions, device, settings.Training, _logger);

        var watch = _command.Has("watch");
        PluginSet? plugins = null;
        HotReloadCoordinator? hotReload = null;
        JointTrainer? trainer = null;
        var runtimes = new List<TaskRuntime>();
        var refused = new List<RunSummary.Refusal>();
        try
        {
            if (watch)
            {
                hotReload = new HotReloadCoordinator(settings.PluginsDirectory, loader, factory, HotReloadOptionsOf(_configuration), _logger);
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
                PrepareTasks(plugins, factory, runtimes, refused);
            }
            if (runtimes.Count == 0)
            {
                throw new UsageException("No task can train: " + string.Join("; ", refused.Select(r => $"{r.Plugin}{(r.Task is null ? "" : "/" + r.Task)}: {r.Reason}")));
            }

            _logger.LogInformation("Building encoder {Encoder} on {Device}", settings.Encoder, settings.Device);
            using var encoder = EncoderCatalog.Create(settings.Encoder, settings.Training.Seed, settings.Training.AttentionDropout);
            Freeze(encoder, settings.Training);
            encoder.to(device);
            var encoderLearningRate = settings.Training.EncoderLearningRate ?? EncoderCatalog.DefaultLearningRate(settings.Encoder);
            trainer = new JointTrainer(encoder, runtimes, new ProportionalTaskSampler(), settings.Training, encoderLearningRate,
                device, tokenizer.PadId, _logger);

            TrainingReport report;
            try
            {
                if (hotReload is not null)
                {
                    hotReload.Attach(trainer);
                    _logger.LogInformation("Watching {Directory} for plugin changes (hot reload); shadow copies in {Shadow}",
                        settings.PluginsDirectory, hotReload.ShadowDirectory);
                    report = trainer.Train(() => hotReload.ApplyPendingChanges(), cancellationToken);
                }
                else
                {
                    report = trainer.Train(cancellationToken);
                }
            }
            catch (InvalidOperationException e)
            {
                _logger.LogError("{Message}", e.Message);
                return 1;
            }

            var checkpoint = Path.Combine(settings.OutDirectory, "checkpoint");
            var latest = report.Tasks.Where(t => t.Validation is not null).ToDictionary(t => t.TaskId, t => t.Validation!);
            CheckpointWriter.Write(checkpoint, settings.Encoder, encoder, trainer.Tasks, report.Steps, settings.Training, latest, hotReload?.Archive.Heads);
            var summary = RunSummary.From(settings.Encoder, settings.Device, report, checkpoint, refused) with
            {
                HotReload = hotReload is null ? null : HotReloadSummary.Of(hotReload.Status),
            };
            var json = JsonSerializer.Serialize(summary, SummaryJson.Options);
            File.WriteAllText(Path.Combine(settings.OutDirectory, "summary.json"), json);
            _logger.LogInformation("Wrote checkpoint {Checkpoint}", checkpoint);

            if (_command.Has("json"))
            {
                output.WriteLine(json);
            }
            else
            {
                SummaryTable.Write(output, summary);
            }
            return 0;
        }
        finally
        {
            // With hot reload the trainer's tasks are not the ones it started with: dispose those it has now.
            foreach (var runtime in trainer?.Tasks ?? runtimes)
            {
                runtime.Dispose();
            }
            trainer?.Dispose();
            hotReload?.Dispose();
            plugins?.Dispose();
        }
    }

    private void PrepareTasks(PluginSet plugins, TaskRuntimeFactory factory, List<TaskRuntime> runtimes, List<RunSummary.Refusal> refused)
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
                    _logger.LogError("Task {Task} of plugin {Plugin} will not train: {Reason}", task.Descriptor.Id, plugin.Name, e.Message);
                    refused.Add(new RunSummary.Refusal(plugin.Name, task.Descriptor.Id, e.Message));
                }
                catch (Exception e)
                {
                    var reason = $"its dataset adapter threw {e.GetType().Name}: {e.Message}";
                    _logger.LogError("Task {Task} of plugin {Plugin} will not train: {Reason}", task.Descriptor.Id, plugin.Name, reason);
                    refused.Add(new RunSummary.Refusal(plugin.Name, task.Descriptor.Id, reason));
                }
            }
        }
    }

    // HotReload:DebounceMilliseconds etc. tune the watcher; the defaults suit a person copying a plugin folder.
    private static HotReloadOptions HotReloadOptionsOf(IConfiguration configuration)
    {
        var defaults = new HotReloadOptions();
        double Read(string key, double fallback) =>
            double.TryParse(configuration[$"HotReload:{key}"], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v) && v >= 0 ? v : fallback;
        return new HotReloadOptions
        {
            Debounce = TimeSpan.FromMilliseconds(Read("DebounceMilliseconds", defaults.Debounce.TotalMilliseconds)),
            PollInterval = TimeSpan.FromMilliseconds(Math.Max(100, Read("PollMilliseconds", defaults.PollInterval.TotalMilliseconds))),
            UnloadTimeout = TimeSpan.FromSeconds(Read("UnloadTimeoutSeconds", defaults.UnloadTimeout.TotalSeconds)),
            DataTimeout = TimeSpan.FromSeconds(Read("DataTimeoutSeconds", defaults.DataTimeout.TotalSeconds)),
            ProbationSteps = (int)Read("ProbationSteps", defaults.ProbationSteps),
        };
    }
}
