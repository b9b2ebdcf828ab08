using Microsoft.Extensions.Logging.Abstractions;
using MtlHost.Core.Encoders;
using MtlHost.Core.Sampling;
using MtlHost.Core.Training;
using MtlHost.Tests.Infrastructure;
using Shouldly;
using Xunit;
using static TorchSharp.torch;

namespace MtlHost.Tests.Training;

/// <summary>
/// Training draws its dropout masks from libtorch's one process-wide generator. The worker service builds modules (a
/// checkpoint's predictor) on another thread while training runs; that must not change a single loss.
/// </summary>
public sealed class TorchGeneratorTests : IDisposable
{
    private readonly TemporaryDirectory _plugin = new();

    public void Dispose() => _plugin.Dispose();

    [Fact]
    public void Building_modules_on_another_thread_under_the_generator_lock_leaves_the_loss_curve_unchanged()
    {
        var alone = Train(builderRunning: false);
        var withBuilder = Train(builderRunning: true);

        withBuilder.ShouldBe(alone);
    }

    // The per-step training losses of a 40-step run; with a thread that keeps building encoders meanwhile, as
    // CheckpointPredictions does when it loads a checkpoint.
    private List<double> Train(bool builderRunning)
    {
        var options = new TrainingOptions { Steps = 40, BatchSize = 8, LogEvery = 0, Seed = 5 };
        using var runtime = MoodsTask.Prepare(_plugin, options);
        manual_seed(options.Seed);
        using var encoder = EncoderCatalog.Create(EncoderCatalog.Tiny, options.Seed);
        using var trainer = new JointTrainer(encoder, [runtime], new ProportionalTaskSampler(), options, 5e-4, CPU, TinyRuntimes.Tokenizer.PadId,
            NullLogger.Instance);
        var losses = new List<double>();
        trainer.StepCompleted += record => losses.Add(record.Tasks.Single().Loss);

        using var done = new CancellationTokenSource();
        var builder = builderRunning
            ? Task.Run(() =>
            {
                while (!done.IsCancellationRequested)
                {
                    lock (TorchGenerator.Lock)
                    {
                        EncoderCatalog.Create(EncoderCatalog.Tiny, seed: 1).Dispose();
                    }
                }
            })
            : Task.CompletedTask;
        trainer.Train();
        done.Cancel();
        builder.Wait();
        return losses;
    }
}
