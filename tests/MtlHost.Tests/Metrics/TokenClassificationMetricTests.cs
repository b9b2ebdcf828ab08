using MtlHost.Abstractions;
using Shouldly;
using TorchSharp;
using Xunit;

namespace MtlHost.Tests.Metrics;

public sealed class TokenClassificationMetricTests
{
    private static readonly string[] Bio = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"];

    // Spans as seqeval's default mode reads them (hand-derived):
    //   1. true B-PER I-PER O B-LOC → (PER 0–1), (LOC 3–3); predicted B-PER I-PER O B-PER → (PER 0–1), (PER 3–3): 1 correct
    //   2. true O B-LOC I-LOC O → (LOC 1–2); predicted O I-LOC I-LOC O → an I- after O opens a span: (LOC 1–2): 1 correct
    //   3. true B-PER O → (PER 0–0); predicted B-PER I-LOC → the type change ends PER and opens LOC: (PER 0–0), (LOC 1–1): 1 correct
    // true spans 4, predicted 5, correct 3 → precision 3/5, recall 3/4, F1 = 2·(3/5)(3/4)/(3/5 + 3/4) = 2/3.
    // Words right: 3 + 3 + 1 of 4 + 4 + 2 → token accuracy 7/10.
    [Fact]
    public void Span_scores_match_hand_computed_values()
    {
        var metric = new TokenClassificationMetric(Bio);
        metric.Update(["B-PER", "I-PER", "O", "B-PER"], ["B-PER", "I-PER", "O", "B-LOC"]);
        metric.Update(["O", "I-LOC", "I-LOC", "O"], ["O", "B-LOC", "I-LOC", "O"]);
        metric.Update(["B-PER", "I-LOC"], ["B-PER", "O"]);

        var scores = metric.Compute();

        metric.PrimaryScore.ShouldBe("span_f1");
        scores["span_precision"].ShouldBe(3.0 / 5, 1e-12);
        scores["span_recall"].ShouldBe(3.0 / 4, 1e-12);
        scores["span_f1"].ShouldBe(2.0 / 3, 1e-12);
        scores["token_accuracy"].ShouldBe(7.0 / 10, 1e-12);
    }

    [Fact]
    public void A_span_counts_only_with_exact_bounds()
    {
        var metric = new TokenClassificationMetric(Bio);
        // True (PER 0–1); predicted (PER 0–0) and a stray (PER 1–1): nothing matches exactly.
        metric.Update(["B-PER", "B-PER"], ["B-PER", "I-PER"]);

        var scores = metric.Compute();

        scores["span_f1"].ShouldBe(0);
        scores["token_accuracy"].ShouldBe(0.5);
    }

    // Positions: [CLS], word 1, its second sub-token, word 2, word 3, [SEP]. Only words count, so the
    // prediction O at the ignored sub-token does not split the span B-PER I-PER: F1 1.
    [Fact]
    public void Tensor_updates_read_the_first_sub_token_of_each_word()
    {
        var metric = new TokenClassificationMetric(["O", "B-PER", "I-PER"]);
        long ignore = TaskTargets.IgnoreIndex;
        using var targets = torch.tensor(new[] { ignore, 1, ignore, 2, 0, ignore }, [1, 6]);
        var predicted = new long[] { 0, 1, 0, 2, 0, 2 };
        using var logits = torch.nn.functional.one_hot(torch.tensor(predicted, [1, 6]), 3).to_type(torch.ScalarType.Float32);

        metric.Update(logits, targets);
        var scores = metric.Compute();

        scores["span_f1"].ShouldBe(1);
        scores["token_accuracy"].ShouldBe(1);
    }

    [Fact]
    public void Labels_that_are_not_BIO_tags_are_scored_by_token_accuracy()
    {
        var metric = new TokenClassificationMetric(["NOUN", "VERB"]);
        metric.Update(["NOUN", "VERB", "VERB"], ["NOUN", "VERB", "NOUN"]);

        var scores = metric.Compute();

        metric.PrimaryScore.ShouldBe("token_accuracy");
        scores.Keys.ShouldBe(["token_accuracy"]);
        scores["token_accuracy"].ShouldBe(2.0 / 3, 1e-12);
    }
}
