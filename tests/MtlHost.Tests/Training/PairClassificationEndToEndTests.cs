using Microsoft.Extensions.Logging.Abstractions;
using MtlHost.Abstractions;
using MtlHost.Core.Encoders;
using MtlHost.Core.Sampling;
using MtlHost.Core.Tokenization;
using MtlHost.Core.Training;
using MtlHost.Tests.Infrastructure;
using Shouldly;
using Xunit;
using static TorchSharp.torch;

namespace MtlHost.Tests.Training;

/// <summary>
/// A pair-classification task through the host's own pipeline (data adapter, tokenizer, batching,
/// joint trainer, evaluator), in-process: no sample plugin is of this kind.
/// </summary>
public sealed class PairClassificationEndToEndTests : IDisposable
{
    private readonly TemporaryDirectory _plugin = new();

    public void Dispose() => _plugin.Dispose();

    [Fact]
    public void Pairs_are_encoded_with_segment_ids_train_and_score_against_the_majority_baseline()
    {
        string[] animals = ["cat", "dog", "horse", "cow", "goat", "sheep"];
        var train = new List<string>();
        for (var i = 0; i < 36; i++)
        {
            var a = animals[i % 6];
            var b = i % 3 == 0 ? a : animals[(i + 1) % 6];
            train.Add(Line($"the {a} sleeps", $"a {b} runs", a == b ? "same" : "different"));
        }
        Directory.CreateDirectory(_plugin.Combine("data", "pairs"));
        File.WriteAllLines(_plugin.Combine("data", "pairs", "train.jsonl"), train);
        // Validation: 6 different, 4 same.
        File.WriteAllLines(_plugin.Combine("data", "pairs", "validation.jsonl"),
            [.. Enumerable.Range(0, 6).Select(i => Line($"the {animals[i]} sleeps", $"a {animals[(i + 2) % 6]} runs", "different")),
             .. Enumerable.Range(0, 4).Select(i => Line($"the {animals[i]} sleeps", $"a {animals[i]} runs", "same"))]);

        var options = new TrainingOptions { Steps = 8, BatchSize = 8, LogEvery = 0, Seed = 3 };
        var tokenizer = TinyRuntimes.Tokenizer;
        var factory = TinyRuntimes.Factory(options);
        using var runtime = factory.Create(new PairsTask(), new TaskSource("Pairs", _plugin.Path, "Pairs.dll", new string('0', 64)));

        // [CLS] the cat sleeps [SEP] a cat runs [SEP]: segment 0 up to the first [SEP], then 1.
        var first = runtime.Train[0];
        first.TokenTypeIds.ShouldBe([0, 0, 0, 0, 0, 1, 1, 1, 1]);
        first.InputIds.Count(id => id == first.InputIds[^1]).ShouldBe(2);

        using var encoder = EncoderCatalog.Create(EncoderCatalog.Tiny, options.Seed);
        using var trainer = new JointTrainer(encoder, [runtime], new ProportionalTaskSampler(), options, 5e-4, CPU, tokenizer.PadId, NullLogger.Instance);
        trainer.Train();
        var scores = trainer.Evaluate().ShouldHaveSingleItem();

        runtime.StepsTrained.ShouldBe(8);
        scores.PrimaryScore.ShouldBe("macro_f1");
        scores.Examples.ShouldBe(10);
        double.IsFinite(scores.Loss).ShouldBeTrue();
        // Majority of train is "different" (24 of 36). Predicting it on validation: F1(different) =
        // 2·6/(6 + 10) = 0.75, F1(same) = 0 (true 4 times, never predicted) → macro-F1 0.375.
        scores.Baseline.ShouldBe(0.375, 1e-12);
    }

    private static string Line(string text, string pair, string label) =>
        System.Text.Json.JsonSerializer.Serialize(new { text, text_pair = pair, label });

    private sealed class PairsTask : PairClassificationTask
    {
        public override string Id => "pairs";
        public override IReadOnlyList<string> Labels => ["different", "same"];
    }
}
