using MtlHost.Abstractions;
using Shouldly;
using TorchSharp;
using Xunit;

namespace MtlHost.Tests.Metrics;

public sealed class TaskKindLossTests
{
    // Logits 0 and 2 against targets 1 and 0: −ln σ(0) = ln 2 and −ln(1 − σ(2)) = ln(1 + e²); mean of both.
    [Fact]
    public void Multi_label_loss_is_the_mean_binary_cross_entropy_of_a_sigmoid_per_label()
    {
        using var logits = torch.tensor(new float[] { 0, 2 }, [1, 2]);
        using var targets = torch.tensor(new float[] { 1, 0 }, [1, 2]);

        using var loss = new MultiLabelBinaryCrossEntropy().Compute(logits, targets);

        loss.item<float>().ShouldBe((float)((Math.Log(2) + Math.Log(1 + Math.Exp(2))) / 2), 1e-6f);
    }

    // 100 training examples; label 0 on 4 of them: √(96/4) = 4.899; label 1 on 50: √1 = 1; label 2 on none: 1; label 3 on
    // 1: √99 = 9.95, under the cap of 30. The positive term is weighted: −w·ln σ(0) for label 0's positive, ln(1 + e²) unchanged.
    [Fact]
    public void Multi_label_loss_weights_a_rare_labels_positives_by_the_root_of_its_negative_to_positive_ratio()
    {
        using var loss = new MultiLabelBinaryCrossEntropy();
        loss.Prepare(new TrainingSplitSummary(100, [4, 50, 0, 1]));

        loss.PositiveWeights!.ShouldBe([Math.Sqrt(24), 1.0, 1.0, Math.Sqrt(99)], 1e-9);
        using var logits = torch.tensor(new float[] { 0, 2, 0, 0 }, [1, 4]);
        using var targets = torch.tensor(new float[] { 1, 0, 0, 0 }, [1, 4]);
        using var value = loss.Compute(logits, targets);
        value.item<float>().ShouldBe((float)((Math.Sqrt(24) * Math.Log(2) + Math.Log(1 + Math.Exp(2)) + 2 * Math.Log(2)) / 4), 1e-5f);

        using var plain = new MultiLabelBinaryCrossEntropy { WeightPositives = false };
        plain.Prepare(new TrainingSplitSummary(100, [4, 50, 0, 1]));
        plain.PositiveWeights.ShouldBeNull();
    }

    // Predictions 1 and 3 against 0 and 0 (errors 1 and 3):
    //   MSE (1 + 9)/2 = 5;
    //   Huber δ = 1: ½·1² = 0.5 and 1·(3 − ½) = 2.5 → 1.5;  δ = 2: ½·1² = 0.5 and 2·(3 − 1) = 4 → 2.25.
    [Theory]
    [InlineData(RegressionLossFunction.MeanSquaredError, 1.0, 5.0)]
    [InlineData(RegressionLossFunction.Huber, 1.0, 1.5)]
    [InlineData(RegressionLossFunction.Huber, 2.0, 2.25)]
    public void Regression_losses_match_hand_computed_values(RegressionLossFunction function, double delta, double expected)
    {
        using var outputs = torch.tensor(new float[] { 1, 3 });
        using var targets = torch.tensor(new float[] { 0, 0 });

        using var loss = new RegressionLoss(function, delta).Compute(outputs, targets);

        loss.item<float>().ShouldBe((float)expected, 1e-6f);
    }

    // [CLS] w1 [SEP] with targets ignore, 1, ignore: only the middle position counts, logits (0, 0) → ln 2.
    [Fact]
    public void Token_loss_skips_ignored_positions()
    {
        using var logits = torch.tensor(new float[] { 9, -9, 0, 0, -9, 9 }, [1, 3, 2]);
        using var targets = torch.tensor(new[] { TaskTargets.IgnoreIndex, 1, TaskTargets.IgnoreIndex }, [1, 3]);

        using var loss = new SingleLabelCrossEntropy().Compute(logits, targets);

        loss.item<float>().ShouldBe((float)Math.Log(2), 1e-6f);
    }
}
