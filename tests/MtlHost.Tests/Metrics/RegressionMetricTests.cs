using MtlHost.Abstractions;
using Shouldly;
using TorchSharp;
using Xunit;

namespace MtlHost.Tests.Metrics;

public sealed class RegressionMetricTests
{
    // predicted x = 1 2 3 4 (mean 2.5), true y = 2 2 4 5 (mean 3.25):
    //   dx = −1.5 −0.5 0.5 1.5, dy = −1.25 −1.25 0.75 1.75
    //   Σdx·dy = 1.875 + 0.625 + 0.375 + 2.625 = 5.5, Σdx² = 5, Σdy² = 6.75 → Pearson 5.5/√33.75
    //   ranks of y with the tie 2, 2 sharing (1 + 2)/2: 1.5 1.5 3 4 (mean 2.5), ranks of x = x
    //   Σ = 1.5 + 0.5 + 0.25 + 2.25 = 4.5, Σdx² = 5, Σdr² = 4.5 → Spearman 4.5/√22.5 = √0.9
    //   errors −1 0 −1 −1 → MAE 3/4, MSE 3/4
    [Fact]
    public void Scores_match_hand_computed_values()
    {
        var metric = new RegressionMetric();
        metric.Update([1.0, 2, 3, 4], [2.0, 2, 4, 5]);

        var scores = metric.Compute();

        metric.PrimaryScore.ShouldBe("pearson");
        metric.HigherIsBetter.ShouldBeTrue();
        scores["pearson"].ShouldBe(5.5 / Math.Sqrt(33.75), 1e-12);
        scores["spearman"].ShouldBe(Math.Sqrt(0.9), 1e-12);
        scores["mae"].ShouldBe(0.75, 1e-12);
        scores["mse"].ShouldBe(0.75, 1e-12);
    }

    // A constant predictor (the trivial baseline) has no correlation; it scores 0, not NaN.
    // MSE of the constant 3 against 2 2 4 5: (1 + 1 + 1 + 4)/4 = 7/4.
    [Fact]
    public void A_constant_prediction_has_zero_correlation()
    {
        var metric = new RegressionMetric();
        using var outputs = torch.full(4, 3.0f);
        using var targets = torch.tensor(new float[] { 2, 2, 4, 5 });

        metric.Update(outputs, targets);
        var scores = metric.Compute();

        scores["pearson"].ShouldBe(0);
        scores["spearman"].ShouldBe(0);
        scores["mse"].ShouldBe(7.0 / 4, 1e-6);
    }
}
