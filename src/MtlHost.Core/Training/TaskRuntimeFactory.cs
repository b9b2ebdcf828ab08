using Microsoft.Extensions.Logging;
using MtlHost.Abstractions;
using MtlHost.Core.Data;
using MtlHost.Core.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace MtlHost.Core.Training;

/// <summary>
/// Prepares a task for training: reads its train and validation splits through its dataset adapter,
/// tokenizes them once with the shared tokenizer, and creates its head on the training device.
/// </summary>
public sealed class TaskRuntimeFactory
{
    private readonly BertWordPieceTokenizer _tokenizer;
    private readonly HeadOptions _headOptions;
    private readonly Device _device;
    private readonly TrainingOptions _options;
    private readonly ILogger _logger;

    /// <summary>Creates the factory.</summary>
    /// <param name="tokenizer">The shared tokenizer.</param>
    /// <param name="headOptions">Encoder shape for new heads.</param>
    /// <param name="device">Training device.</param>
    /// <param name="options">Run options (maximum length, seed).</param>
    /// <param name="logger">Receives data problems.</param>
    public TaskRuntimeFactory(BertWordPieceTokenizer tokenizer, HeadOptions headOptions, Device device, TrainingOptions options, ILogger logger)
    {
        _tokenizer = tokenizer;
        _headOptions = headOptions;
        _device = device;
        _options = options;
        _logger = logger;
    }

    /// <summary>Prepares <paramref name="task"/>.</summary>
    /// <param name="task">The task.</param>
    /// <param name="source">Where it came from.</param>
    /// <returns>The runtime.</returns>
    /// <exception cref="TaskDataException">The task's data cannot be used.</exception>
    public TaskRuntime Create(IMtlTask task, TaskSource source)
    {
        var descriptor = task.Descriptor;
        var badLines = 0;
        var context = new TaskContext(source.PluginDirectory, _options.Seed, problem =>
        {
            badLines++;
            _logger.LogWarning("Task {Task}: skipped bad data line {Problem}", descriptor.Id, source.ForAuthor(problem.ToString()));
        });
        var dataset = task.CreateDataset(context);
        var encoder = new ExampleEncoder(_tokenizer, descriptor, _options.MaxLength);
        var train = dataset.Read(DataSplit.Train).Select(encoder.Encode).ToList();
        var validation = dataset.Read(DataSplit.Validation).Select(encoder.Encode).ToList();
        if (train.Count == 0)
        {
            throw new TaskDataException($"Task '{descriptor.Id}' has no training examples; check its train split.");
        }
        if (validation.Count == 0)
        {
            throw new TaskDataException($"Task '{descriptor.Id}' has no validation examples; check its validation split.");
        }
        if (badLines > 0)
        {
            _logger.LogWarning("Task {Task}: {Count} bad data line(s) skipped", descriptor.Id, badLines);
        }

        // The head's initialisation depends only on the seed and the task id, not on load order.
        manual_seed(_options.Seed ^ StableHash.Of(descriptor.Id));
        var head = task.CreateHead(_headOptions);
        head.to(_device);
        _logger.LogInformation("Task {Task} {Version} ({Kind}): {Train} train / {Validation} validation examples",
            descriptor.Id, descriptor.Version, descriptor.Kind, train.Count, validation.Count);
        return new TaskRuntime(task, source, head, train, validation, _options.Seed ^ StableHash.Of(descriptor.Id),
            _options.LengthWindow, _options.BatchSize);
    }
}
