using Microsoft.Extensions.Logging;
using MtlHost.Abstractions;
using MtlHost.Core.Kinds;
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

    /// <summary>Prepares <paramref name="task"/>: <see cref="ReadData"/>, then <see cref="Build"/>.</summary>
    /// <param name="task">The task.</param>
    /// <param name="source">Where it came from.</param>
    /// <returns>The runtime.</returns>
    /// <exception cref="TaskDataException">The task's data cannot be used.</exception>
    public TaskRuntime Create(IMtlTask task, TaskSource source) => Build(task, source, ReadData(task, source));

    /// <summary>
    /// Reads the task's train and validation splits through its dataset adapter and tokenizes them. Uses no torch state,
    /// so it may run on any thread while the trainer steps (hot reload prepares a new version this way).
    /// </summary>
    /// <param name="task">The task.</param>
    /// <param name="source">Where it came from.</param>
    /// <returns>The encoded splits.</returns>
    /// <exception cref="TaskDataException">The task's data cannot be used.</exception>
    public EncodedTaskData ReadData(IMtlTask task, TaskSource source)
    {
        var descriptor = task.Descriptor;
        var badLines = 0;
        var context = new TaskContext(source.PluginDirectory, _options.Seed, problem =>
        {
            Interlocked.Increment(ref badLines);
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
        return new EncodedTaskData(train, validation);
    }

    /// <summary>
    /// Creates the task's head on the training device and the runtime around it and <paramref name="data"/>. Building the
    /// head draws its initial weights from torch's process-wide generator, reseeded from the run's seed and the task id
    /// under <see cref="TorchGenerator.Lock"/>: the head does not depend on load order or timing, and a step in flight on
    /// another thread keeps its dropout masks (it holds the lock, so this waits for its end).
    /// </summary>
    /// <param name="task">The task.</param>
    /// <param name="source">Where it came from.</param>
    /// <param name="data">Its splits, from <see cref="ReadData"/>.</param>
    /// <returns>The runtime.</returns>
    public TaskRuntime Build(IMtlTask task, TaskSource source, EncodedTaskData data)
    {
        var descriptor = task.Descriptor;
        var seed = _options.Seed ^ StableHash.Of(descriptor.Id);
        TaskHead head;
        lock (TorchGenerator.Lock)
        {
            manual_seed(seed);
            head = task.CreateHead(_headOptions);
        }
        head.to(_device);
        _logger.LogInformation("Task {Task} {Version} ({Kind}): {Train} train / {Validation} validation examples",
            descriptor.Id, descriptor.Version, descriptor.Kind, data.Train.Count, data.Validation.Count);
        return new TaskRuntime(task, source, head, data.Train, data.Validation, seed, _options.LengthWindow, _options.BatchSize);
    }
}
