using MtlHost.Abstractions;
using Shouldly;
using TorchSharp;
using Xunit;

namespace MtlHost.Tests.Metrics;

public sealed class ClassificationMetricTests
{
    // Targets 0 0 1 1 2 2, predictions 0 1 1 1 2 0 (hand-computed):
    //   accuracy = 4/6; F1 per label: 0 → 2·1/(2+2) = 0.5, 1 → 2·2/(2+3) = 0.8, 2 → 2·1/(2+1) = 2/3;
    //   macro-F1 = (0.5 + 0.8 + 2/3) / 3; MCC = (c·s − Σp·t)/√((s² − Σp²)(s² − Σt²))
    //   with c = 4, s = 6, p = (2, 3, 1), t = (2, 2, 2): (24 − 12)/√((36 − 14)(36 − 12)) = 12/√528.
    [Fact]
    public void Scores_match_hand_computed_values()
    {
        var metric = new ClassificationMetric(3);
        metric.Update([0, 1, 1, 1, 2, 0], [0, 0, 1, 1, 2, 2]);

        var scores = metric.Compute();

        scores["accuracy"].ShouldBe(4.0 / 6, 1e-12);
        scores["macro_f1"].ShouldBe((0.5 + 0.8 + 2.0 / 3) / 3, 1e-12);
        scores["mcc"].ShouldBe(12 / Math.Sqrt(528), 1e-12);
    }

    [Fact]
    public void Tensor_updates_use_argmax_and_skip_ignored_positions()
    {
        var metric = new ClassificationMetric(2);
        using var logits = torch.tensor(new float[] { 2, 1, 0, 3, 5, 0 }, [3, 2]);
        using var targets = torch.tensor(new long[] { 0, 0, TaskTargets.IgnoreIndex });

        metric.Update(logits, targets);
        var scores = metric.Compute();

        scores["accuracy"].ShouldBe(0.5);
    }

    [Fact]
    public void Always_predicting_the_majority_scores_its_own_F1_over_the_labels_present()
    {
        var metric = new ClassificationMetric(2);
        metric.Update([0, 0, 0, 0], [0, 0, 0, 1]);

        // Label 0: F1 = 2·3/(3+4) = 6/7; label 1: F1 = 0; macro = 3/7. MCC is 0 for a constant predictor.
        metric.Compute()["macro_f1"].ShouldBe(3.0 / 7, 1e-12);
        metric.Compute()["mcc"].ShouldBe(0);
    }

    [Fact]
    public void Reset_forgets_earlier_batches()
    {
        var metric = new ClassificationMetric(2);
        metric.Update([1, 1], [0, 0]);
        metric.Reset();
        metric.Update([0], [0]);

        metric.Compute()["accuracy"].ShouldBe(1);
    }
}
