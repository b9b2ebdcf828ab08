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
using MtlHost.Plugins;
using TorchSharp;

namespace MtlHost.Commands;

/// <summary>
/// <c>mtlhost train</c>: loads the plugins folder, prepares every task, trains them jointly on one
/// shared encoder, evaluates, writes a checkpoint and prints per-task results.
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
        if (_command.Has("watch"))
        {
            throw new UsageException("--watch (hot reload) is not available in this version yet; run without it.");
        }
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
        var loader = new TaskPluginLoader(new HeadOptions(encoderConfig.HiddenSize, encoderConfig.HiddenDropout), _logger);
        using var plugins = PluginSet.Load(loader, settings.PluginsDirectory);
        var refused = plugins.Result.Refused.Select(r => new RunSummary.Refusal(r.Name, null, r.Reason)).ToList();

        torch.manual_seed(settings.Training.Seed);
        var tokenizer = BertWordPieceTokenizer.FromVocabulary(MiniLmPackage.OpenVocabulary());
        var factory = new TaskRuntimeFactory(tokenizer, new HeadOptions(encoderConfig.HiddenSize, encoderConfig.HiddenDropout), device,
            settings.Training, _logger);
        var runtimes = new List<TaskRuntime>();
        try
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
            if (runtimes.Count == 0)
            {
                throw new UsageException("No task can train: " + string.Join("; ", refused.Select(r => $"{r.Plugin}{(r.Task is null ? "" : "/" + r.Task)}: {r.Reason}")));
            }

            _logger.LogInformation("Building encoder {Encoder} on {Device}", settings.Encoder, settings.Device);
            using var encoder = EncoderCatalog.Create(settings.Encoder, settings.Training.Seed);
            Freeze(encoder, settings.Training);
            encoder.to(device);
            var encoderLearningRate = settings.Training.EncoderLearningRate ?? EncoderCatalog.DefaultLearningRate(settings.Encoder);
            using var trainer = new JointTrainer(encoder, runtimes, new ProportionalTaskSampler(), settings.Training, encoderLearningRate,
                device, tokenizer.PadId, _logger);

            TrainingReport report;
            try
            {
                report = trainer.Train(cancellationToken);
            }
            catch (InvalidOperationException e)
            {
                _logger.LogError("{Message}", e.Message);
                return 1;
            }

            var checkpoint = Path.Combine(settings.OutDirectory, "checkpoint");
            var latest = report.Tasks.Where(t => t.Validation is not null).ToDictionary(t => t.TaskId, t => t.Validation!);
            CheckpointWriter.Write(checkpoint, settings.Encoder, encoder, runtimes, report.Steps, settings.Training, latest);
            var summary = RunSummary.From(settings.Encoder, settings.Device, report, checkpoint, refused);
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
            foreach (var runtime in runtimes)
            {
                runtime.Dispose();
            }
        }
    }
}
