using MtlHost.Abstractions;
using Shouldly;
using TorchSharp;
using Xunit;

namespace MtlHost.Tests.Metrics;

public sealed class MultiLabelMetricTests
{
    // Four labels, four examples (predicted → true):
    //   {0, 1} → {0}      label 0 TP, label 1 FP
    //   {}     → {1}      label 1 FN
    //   {0, 2} → {0, 2}   label 0 TP, label 2 TP (exact match)
    //   {1}    → {1, 2}   label 1 TP, label 2 FN
    // Per label: 0: TP 2 → F1 = 4/4 = 1; 1: TP 1, FP 1, FN 1 → 2/4 = 0.5; 2: TP 1, FN 1 → 2/3;
    // label 3 never true nor predicted → left out of the macro mean.
    // micro: TP 4, FP 1, FN 2 → F1 = 8/11, precision 4/5, recall 4/6; macro = (1 + 0.5 + 2/3)/3 = 13/18;
    // exact match 1/4.
    [Fact]
    public void Scores_match_hand_computed_values()
    {
        var metric = new MultiLabelMetric(4);
        metric.Update([true, true, false, false], [true, false, false, false]);
        metric.Update([false, false, false, false], [false, true, false, false]);
        metric.Update([true, false, true, false], [true, false, true, false]);
        metric.Update([false, true, false, false], [false, true, true, false]);

        var scores = metric.Compute();

        metric.PrimaryScore.ShouldBe("micro_f1");
        scores["micro_f1"].ShouldBe(8.0 / 11, 1e-12);
        scores["macro_f1"].ShouldBe(13.0 / 18, 1e-12);
        scores["micro_precision"].ShouldBe(4.0 / 5, 1e-12);
        scores["micro_recall"].ShouldBe(4.0 / 6, 1e-12);
        scores["exact_match"].ShouldBe(0.25, 1e-12);
    }

    // Logits (0.1, −0.1, 3) against targets (1, 0, 0): at 0.5 (logit ≥ 0) labels 0 and 2 are predicted
    // → TP 1, FP 1 → micro-F1 2/3. At 0.75 (logit ≥ ln 3 ≈ 1.10) only label 2 → TP 0, FP 1, FN 1 → 0.
    [Fact]
    public void Tensor_updates_threshold_the_sigmoid_of_the_logits()
    {
        using var logits = torch.tensor(new float[] { 0.1f, -0.1f, 3f }, [1, 3]);
        using var targets = torch.tensor(new float[] { 1, 0, 0 }, [1, 3]);

        var half = new MultiLabelMetric(3);
        half.Update(logits, targets);
        half.Compute()["micro_f1"].ShouldBe(2.0 / 3, 1e-12);

        var strict = new MultiLabelMetric(3, threshold: 0.75);
        strict.Update(logits, targets);
        strict.Compute()["micro_f1"].ShouldBe(0);
    }

    [Fact]
    public void Reset_forgets_earlier_batches()
    {
        var metric = new MultiLabelMetric(2);
        metric.Update([true, false], [false, true]);
        metric.Reset();
        metric.Update([true, false], [true, false]);

        metric.Compute()["micro_f1"].ShouldBe(1);
    }
}
