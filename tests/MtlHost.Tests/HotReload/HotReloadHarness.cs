using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MtlHost.Abstractions;
using MtlHost.Core.Encoders;
using MtlHost.Core.Sampling;
using MtlHost.Core.Tokenization;
using MtlHost.Core.Training;
using MtlHost.HotReload;
using MtlHost.Plugins;
using MtlHost.Tests.Infrastructure;
using Shouldly;
using static TorchSharp.torch;

namespace MtlHost.Tests.HotReload;

/// <summary>
/// A watched training run driven step by step, as the train command drives it: the coordinator's safe
/// point, then one step. Tiny encoder, fast debounce, a temporary plugins folder.
/// </summary>
public sealed class HotReloadHarness : IDisposable
{

    private readonly BertEncoder _encoder;

    /// <summary>Loads the plugins already in <paramref name="plugins"/> and builds the trainer.</summary>
    /// <param name="plugins">The plugins folder.</param>
    /// <param name="options">Hot reload options; fast ones by default.</param>
    /// <param name="logger">Receives the coordinator's, the trainer's and the data preparation's messages; none by default.</param>
    public HotReloadHarness(TemporaryDirectory plugins, HotReloadOptions? options = null, ILogger? logger = null)
    {
        logger ??= NullLogger.Instance;
        Plugins = plugins;
        var headOptions = TinyRuntimes.HeadOptions;
        var training = new TrainingOptions { Steps = 100_000, BatchSize = 8, LogEvery = 0, Seed = 5, MaxLength = 32 };
        manual_seed(training.Seed);
        var factory = TinyRuntimes.Factory(training, logger);
        Options = options ?? new HotReloadOptions
        {
            Debounce = TimeSpan.FromMilliseconds(100),
            PollInterval = TimeSpan.FromMilliseconds(500),
            UnloadTimeout = TimeSpan.FromSeconds(10),
            ProbationSteps = 3,
        };
        Coordinator = new HotReloadCoordinator(plugins.Path, new TaskPluginLoader(headOptions, logger), factory, Options, logger,
            Path.Combine(Path.GetTempPath(), "mtlhost-tests", "shadow"));
        // Held for the whole run, as train --watch holds the list it starts the trainer with: a replaced or removed initial
        // version must be collected all the same.
        InitialTasks = Coordinator.LoadInitial();
        _encoder = EncoderCatalog.Create("tiny", training.Seed);
        Trainer = new JointTrainer(_encoder, InitialTasks, new ProportionalTaskSampler(), training, 5e-4, CPU, TinyRuntimes.Tokenizer.PadId, logger);
        Coordinator.Attach(Trainer);
    }

    /// <summary>The tasks the run started with, as <see cref="HotReloadCoordinator.LoadInitial"/> returned them.</summary>
    public IReadOnlyList<TaskRuntime> InitialTasks { get; }

    /// <summary>The watched folder.</summary>
    public TemporaryDirectory Plugins { get; }

    /// <summary>The options in force.</summary>
    public HotReloadOptions Options { get; }

    /// <summary>The coordinator.</summary>
    public HotReloadCoordinator Coordinator { get; }

    /// <summary>The trainer.</summary>
    public JointTrainer Trainer { get; }

    /// <summary>The encoder.</summary>
    public BertEncoder Encoder => _encoder;

    /// <summary>The task with <paramref name="id"/> in the run.</summary>
    /// <param name="id">Task id.</param>
    /// <returns>The task.</returns>
    public TaskRuntime Task(string id) => Trainer.Tasks.Single(t => t.Id == id);

    /// <summary>Runs steps, each after the safe point.</summary>
    /// <param name="count">How many.</param>
    public void Steps(int count)
    {
        for (var i = 0; i < count; i++)
        {
            Coordinator.ApplyPendingChanges();
            Trainer.RunStep();
        }
    }

    /// <summary>Waits for the watcher to report the folder's change, then applies it at the safe point.</summary>
    public void ApplyChange()
    {
        Coordinator.WaitForChanges(TimeSpan.FromSeconds(15)).ShouldBeTrue("the watcher did not report the change");
        Coordinator.ApplyPendingChanges().ShouldBeGreaterThan(0);
    }

    /// <summary>Runs steps until <paramref name="id"/> has trained at least <paramref name="steps"/> times (probation ends).</summary>
    /// <param name="id">Task id.</param>
    /// <param name="steps">Steps of that task.</param>
    public void TrainUntil(string id, int steps)
    {
        for (var i = 0; i < 2000 && Trainer.Tasks.First(t => t.Id == id).StepsTrained < steps; i++)
        {
            Steps(1);
        }
        Steps(1);
    }

    /// <summary>Events of one kind.</summary>
    /// <param name="kind">The kind.</param>
    /// <returns>The events.</returns>
    public IReadOnlyList<PluginEvent> Events(PluginEventKind kind) => Coordinator.Status.Events.Where(e => e.Kind == kind).ToList();

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var task in Trainer.Tasks)
        {
            task.Dispose();
        }
        Trainer.Dispose();
        Coordinator.Dispose();
        _encoder.Dispose();
    }
}
