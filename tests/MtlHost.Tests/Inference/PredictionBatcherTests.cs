using Microsoft.Extensions.Logging.Abstractions;
using MtlHost.Core.Export.Onnx;
using MtlHost.Core.Inference;
using MtlHost.Inference;
using MtlHost.Inference.Onnx;
using Shouldly;
using Xunit;

namespace MtlHost.Tests.Inference;

/// <summary>The batcher: concurrent requests answered as the predictor answers them, in shared batches; swaps; errors.</summary>
[Collection(InferenceCollection.Name)]
public sealed class PredictionBatcherTests(InferenceCheckpoint checkpoint)
{
    private static readonly string[] Texts =
    [
        "free money now", "the cat sleeps", "quickly", "an old red house", "call me back", "winning numbers inside",
        "she runs fast", "green", "the meeting is at noon", "buy cheap pills", "dogs bark", "a happy child",
    ];

    [Fact]
    public async Task Concurrent_requests_are_answered_as_the_predictor_answers_them_in_one_batch()
    {
        IReadOnlyList<PredictionResponse> expected;
        using (var reference = MultiTaskPredictor.Load(checkpoint.Checkpoint, checkpoint.Plugins))
        {
            expected = reference.Predict(Texts.Select(t => new PredictionInput(t)).ToList());
        }
        // The batch fills up at once, so the long delay is never waited out; it only keeps a slow machine from splitting it.
        await using var batcher = new PredictionBatcher(MultiTaskPredictor.Load(checkpoint.Checkpoint, checkpoint.Plugins),
            new PredictionBatcherOptions(MaxBatchSize: Texts.Length, MaxDelay: TimeSpan.FromSeconds(30)), NullLogger.Instance);

        var answers = await Task.WhenAll(Texts.Select(t => Task.Run(() => batcher.PredictAsync(new PredictionInput(t), null, CancellationToken.None))));

        batcher.Batches.ShouldBe(1);
        for (var i = 0; i < Texts.Length; i++)
        {
            answers[i].Step.ShouldBe(4);
            answers[i].Tasks.Select(t => (t.TaskId, t.Label)).ShouldBe(expected[i].Tasks.Select(t => (t.TaskId, t.Label)), Texts[i]);
            answers[i].Tasks.Single(t => t.TaskId == "spam").Scores["spam"].ShouldBe(expected[i].Tasks.Single(t => t.TaskId == "spam").Scores["spam"], 1e-5);
        }
    }

    [Fact]
    public async Task An_onnx_export_is_served_alike_batched_as_its_predictor_answers_and_bad_requests_refused_at_once()
    {
        var export = Path.Combine(checkpoint.NewFolder(), "onnx");
        OnnxCheckpointExporter.Export(checkpoint.Checkpoint, export, "none");
        var inputs = Texts.Select(t => new PredictionInput(t)).ToList();
        IReadOnlyList<PredictionResponse> expected;
        using (var reference = OnnxMultiTaskPredictor.Load(export, new OnnxPredictorOptions { IntraOpThreads = 1 }))
        {
            expected = reference.Predict(inputs);
        }
        await using var batcher = new PredictionBatcher(OnnxMultiTaskPredictor.Load(export, new OnnxPredictorOptions { IntraOpThreads = 1 }),
            new PredictionBatcherOptions(MaxBatchSize: Texts.Length, MaxDelay: TimeSpan.FromSeconds(30)), NullLogger.Instance);

        var answers = await Task.WhenAll(inputs.Select(i => Task.Run(() => batcher.PredictAsync(i, null, CancellationToken.None))));

        batcher.Batches.ShouldBe(1);
        batcher.Step.ShouldBe(4);
        for (var i = 0; i < Texts.Length; i++)
        {
            answers[i].Tasks.Select(t => (t.TaskId, t.Label)).ShouldBe(expected[i].Tasks.Select(t => (t.TaskId, t.Label)), Texts[i]);
            answers[i].Tasks.Single(t => t.TaskId == "spam").Scores["spam"].ShouldBe(expected[i].Tasks.Single(t => t.TaskId == "spam").Scores["spam"], 1e-5);
        }
        Should.Throw<ArgumentException>(() => batcher.PredictAsync(new PredictionInput("x"), "sentiment", CancellationToken.None))
            .Message.ShouldContain("the export's tasks are pairs");
        Should.Throw<ArgumentException>(() => batcher.PredictAsync(new PredictionInput(" "), null, CancellationToken.None))
            .Message.ShouldContain("The text is empty");
        batcher.Batches.ShouldBe(1);
    }

    [Fact]
    public async Task A_full_batch_runs_without_waiting_and_the_rest_follow_in_further_batches()
    {
        await using var batcher = new PredictionBatcher(MultiTaskPredictor.Load(checkpoint.Checkpoint, checkpoint.Plugins),
            new PredictionBatcherOptions(MaxBatchSize: 4, MaxDelay: TimeSpan.FromMilliseconds(1)), NullLogger.Instance);

        var answers = await Task.WhenAll(Texts.Select(t => batcher.PredictAsync(new PredictionInput(t), "wordclass", CancellationToken.None)));

        answers.ShouldAllBe(a => a.Tasks.Count == 1 && a.Tasks[0].TaskId == "wordclass");
        batcher.Batches.ShouldBeInRange(Texts.Length / 4, Texts.Length);
    }

    [Fact]
    public async Task Swap_serves_the_new_checkpoint_and_disposes_the_old_predictor()
    {
        var first = MultiTaskPredictor.Load(checkpoint.Checkpoint, checkpoint.Plugins);
        var later = checkpoint.CopyCheckpoint(m => m.Replace("\"step\": 4,", "\"step\": 9,"));
        await using var batcher = new PredictionBatcher(first, new PredictionBatcherOptions(), NullLogger.Instance);
        batcher.Step.ShouldBe(4);
        (await batcher.PredictAsync(new PredictionInput("free money"), null, CancellationToken.None)).Step.ShouldBe(4);

        batcher.Swap(MultiTaskPredictor.Load(later, checkpoint.Plugins));

        batcher.Step.ShouldBe(9);
        (await batcher.PredictAsync(new PredictionInput("free money"), null, CancellationToken.None)).Step.ShouldBe(9);
        // The old predictor goes on the batcher's thread once no batch can be using it.
        SpinWait.SpinUntil(() => IsDisposed(first), TimeSpan.FromSeconds(30)).ShouldBeTrue();
    }

    [Fact]
    public async Task Without_a_predictor_requests_are_unavailable_until_the_first_swap()
    {
        await using var batcher = new PredictionBatcher(null, new PredictionBatcherOptions(), NullLogger.Instance);

        batcher.Step.ShouldBeNull();
        Should.Throw<PredictionUnavailableException>(() => batcher.PredictAsync(new PredictionInput("x"), null, CancellationToken.None));
        batcher.Swap(MultiTaskPredictor.Load(checkpoint.Checkpoint, checkpoint.Plugins));
        (await batcher.PredictAsync(new PredictionInput("x"), null, CancellationToken.None)).Step.ShouldBe(4);
    }

    [Fact]
    public async Task An_unknown_task_or_a_pair_task_without_a_second_text_is_refused_at_once()
    {
        await using var batcher = new PredictionBatcher(MultiTaskPredictor.Load(checkpoint.Checkpoint, checkpoint.Plugins),
            new PredictionBatcherOptions(), NullLogger.Instance);

        Should.Throw<ArgumentException>(() => batcher.PredictAsync(new PredictionInput("x"), "sentiment", CancellationToken.None))
            .Message.ShouldContain("wordclass");
        Should.Throw<ArgumentException>(() => batcher.PredictAsync(new PredictionInput("x"), "pairs", CancellationToken.None))
            .Message.ShouldContain("second text");
        (await batcher.PredictAsync(new PredictionInput("x", "y"), "pairs", CancellationToken.None)).Tasks.ShouldHaveSingleItem().TaskId.ShouldBe("pairs");
        batcher.Batches.ShouldBe(1);
    }

    [Fact]
    public async Task A_cancelled_request_is_cancelled_and_disposal_ends_the_thread()
    {
        var batcher = new PredictionBatcher(MultiTaskPredictor.Load(checkpoint.Checkpoint, checkpoint.Plugins),
            new PredictionBatcherOptions(), NullLogger.Instance);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Should.ThrowAsync<OperationCanceledException>(() => batcher.PredictAsync(new PredictionInput("x"), null, cancelled.Token));
        await batcher.DisposeAsync();

        Should.Throw<ObjectDisposedException>(() => batcher.PredictAsync(new PredictionInput("x"), null, CancellationToken.None));
    }

    private static bool IsDisposed(MultiTaskPredictor predictor)
    {
        try
        {
            predictor.Predict([new PredictionInput("x")]);
            return false;
        }
        catch (ObjectDisposedException)
        {
            return true;
        }
    }
}
