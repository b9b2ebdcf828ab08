using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MtlHost.Core.Encoders;
using MtlHost.Core.Sampling;
using MtlHost.Core.Training;
using MtlHost.Observers;
using MtlHost.Tests.Infrastructure;
using Shouldly;
using Xunit;

namespace MtlHost.Tests.Observers;

/// <summary>A real run writes TensorBoard event files that an independent reader can read back.</summary>
public sealed class TensorBoardLoggerTests : IDisposable
{
    private readonly TemporaryDirectory _plugins = new();
    private readonly TemporaryDirectory _run = new();

    /// <inheritdoc />
    public void Dispose()
    {
        _plugins.Dispose();
        _run.Dispose();
    }

    [Fact]
    public void Train_writes_each_tasks_loss_weight_learning_rate_and_validation_scores()
    {
        _plugins.CopyPlugin(Path.Combine(RepositoryPaths.SamplePlugins, "Spam"));
        _plugins.CopyPlugin(Path.Combine(RepositoryPaths.SamplePlugins, "WordClass"));
        var out_ = _run.Path;

        var run = HostRun.Of("train", "--plugins", _plugins.Path, "--encoder", "tiny", "--steps", "8", "--eval-every", "4", "--weighting", "uw", "--sampler", "all-tasks",
            "--max-length", "32", "--out", out_, "--json");

        run.ExitCode.ShouldBe(0, run.Error);
        var scalars = TensorBoardEventReader.ReadDirectory(Path.Combine(out_, TensorBoardLogger.FolderName));
        var tags = scalars.Select(s => s.Tag).ToHashSet();
        tags.ShouldContain(TensorBoardLogger.LearningRateTag);
        scalars.Where(s => s.Tag == TensorBoardLogger.LearningRateTag).Select(s => s.Step).ShouldBe([1, 2, 3, 4, 5, 6, 7, 8]);
        foreach (var task in new[] { "spam", "wordclass" })
        {
            // With the all-tasks sampler every task trains on every step, so each has a loss at every step.
            var losses = scalars.Where(s => s.Tag == TensorBoardLogger.LossTag(task)).ToList();
            losses.Select(s => s.Step).ShouldBe([1, 2, 3, 4, 5, 6, 7, 8]);
            losses.ShouldAllBe(s => float.IsFinite(s.Value) && s.Value > 0);
            scalars.Where(s => s.Tag == TensorBoardLogger.WeightTag(task)).Count().ShouldBe(8);
            // An evaluation at step 4 and the final one at step 8.
            scalars.Where(s => s.Tag == TensorBoardLogger.ValidationTag(task, "loss")).Select(s => s.Step).ShouldBe([4, 8]);
            scalars.Where(s => s.Tag == TensorBoardLogger.ValidationTag(task, "macro_f1")).Select(s => s.Step).ShouldBe([4, 8]);
        }
        // The final validation loss in the event file is the one the summary reports.
        var summaryLoss = run.Json.GetProperty("tasks").EnumerateArray().First(t => t.GetProperty("id").GetString() == "spam")
            .GetProperty("validation").GetProperty("loss").GetDouble();
        scalars.Last(s => s.Tag == TensorBoardLogger.ValidationTag("spam", "loss")).Value.ShouldBe((float)summaryLoss, 1e-4f);
    }

    [Fact]
    public void A_log_folder_that_cannot_be_written_stops_the_curves_not_the_training()
    {
        var options = new TrainingOptions { Steps = 6, BatchSize = 8, LogEvery = 0, Seed = 5 };
        using var runtime = MoodsTask.Prepare(_plugins, options);
        using var encoder = EncoderCatalog.Create(EncoderCatalog.Tiny, options.Seed);
        using var trainer = new JointTrainer(encoder, [runtime], new ProportionalTaskSampler(), options, 5e-4, TorchSharp.torch.CPU,
            TinyRuntimes.Tokenizer.PadId, NullLogger.Instance);
        var logger = new CountingLogger();
        using var tensorBoard = new TensorBoardLogger(_run.Path, trainer, logger);
        trainer.RunStep();
        Directory.Delete(tensorBoard.Directory, recursive: true);
        File.WriteAllText(tensorBoard.Directory, "a file where the log folder was");

        trainer.Train();

        trainer.Step.ShouldBe(6);
        logger.Warnings.ShouldBe(1);
    }

    private sealed class CountingLogger : ILogger
    {
        public int Warnings { get; private set; }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel == LogLevel.Warning)
            {
                Warnings++;
            }
        }
    }
}
