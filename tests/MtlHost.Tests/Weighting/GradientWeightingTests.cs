using MtlHost.Core.Weighting;
using Shouldly;
using Xunit;

namespace MtlHost.Tests.Weighting;

public sealed class GradientWeightingTests
{
    private const double Tolerance = 1e-9;

    [Fact]
    public void PCGrad_projects_two_conflicting_gradients_onto_each_others_normal_planes_and_sums_them()
    {
        using var tasks = new LinearTasks();
        // g1·g2 = −1: g1' = g1 + g2/2 = (0.5, 0.5), g2' = g2 + g1 = (0, 1).
        var weights = new PCGradWeighting().Backward(tasks.Step([[1, 0], [-1, 1]], [1, 1]));

        tasks.SharedGradient().ShouldBe([0.5, 1.5], Tolerance);
        weights.ShouldBe([2.0, 1.5], Tolerance);
    }

    [Fact]
    public void PCGrad_leaves_gradients_that_do_not_conflict_alone()
    {
        using var tasks = new LinearTasks();
        var weights = new PCGradWeighting().Backward(tasks.Step([[1, 0], [1, 1]], [1, 1]));

        tasks.SharedGradient().ShouldBe([2.0, 1.0], Tolerance);
        weights.ShouldBe([1.0, 1.0], Tolerance);
    }

    [Fact]
    public void MGDA_finds_the_min_norm_point_of_two_orthogonal_unit_gradients()
    {
        using var tasks = new LinearTasks();
        var weights = new MgdaWeighting().Backward(tasks.Step([[1, 0], [0, 1]], [1, 1]));

        weights.ShouldBe([0.5, 0.5], Tolerance);
        tasks.SharedGradient().ShouldBe([0.5, 0.5], Tolerance);
    }

    [Fact]
    public void MGDA_puts_all_weight_on_the_shorter_of_two_colinear_gradients()
    {
        using var tasks = new LinearTasks();
        var weights = new MgdaWeighting().Backward(tasks.Step([[1, 0], [2, 0]], [1, 1]));

        weights.ShouldBe([1.0, 0.0], Tolerance);
        tasks.SharedGradient().ShouldBe([1.0, 0.0], Tolerance);
    }

    [Fact]
    public void MGDA_reaches_zero_for_opposite_gradients_and_a_face_of_the_simplex_for_three_tasks()
    {
        using var tasks = new LinearTasks();
        new MgdaWeighting().Backward(tasks.Step([[1, 0], [-1, 0]], [1, 1])).ShouldBe([0.5, 0.5], Tolerance);
        tasks.SharedGradient().ShouldBe([0.0, 0.0], Tolerance);

        // The hull of (1,0), (0,1), (1,1) is closest to the origin at (0.5, 0.5), on the first two's edge.
        var weights = new MgdaWeighting().Backward(tasks.Step([[1, 0], [0, 1], [1, 1]], [1, 1, 1]));
        weights.ShouldBe([0.5, 0.5, 0.0], 1e-9);
        tasks.SharedGradient().ShouldBe([0.5, 0.5], 1e-9);
    }

    [Fact]
    public void MGDA_with_loss_normalisation_solves_on_scaled_gradients_and_applies_the_weights_to_the_raw_ones()
    {
        using var tasks = new LinearTasks();
        // Scaled by their losses both gradients become unit vectors: α = (0.5, 0.5) on the raw (2,0), (0,4).
        var weights = new MgdaWeighting(new WeightingOptions { MgdaNormalization = MgdaNormalization.Loss })
            .Backward(tasks.Step([[2, 0], [0, 4]], [2, 4]));

        weights.ShouldBe([0.5, 0.5], Tolerance);
        tasks.SharedGradient().ShouldBe([1.0, 2.0], Tolerance);
    }

    [Fact]
    public void MGDA_UB_solves_on_representation_gradients_with_one_weighted_backward_and_heads_keep_their_own_gradients()
    {
        using var tasks = new LinearTasks();
        var weights = new MgdaWeighting(new WeightingOptions { MgdaUpperBound = true }).Backward(tasks.Step([[1, 0], [2, 0]], [1, 1]));

        weights.ShouldBe([1.0, 0.0], Tolerance);
        tasks.SharedGradient().ShouldBe([1.0, 0.0], Tolerance);
        tasks.HeadGradient(0).ShouldBe(1.0, Tolerance);
        tasks.HeadGradient(1).ShouldBe(2.0, Tolerance);
    }

    [Fact]
    public void CAGrad_with_c_zero_is_the_mean_gradient()
    {
        using var tasks = new LinearTasks();
        new CAGradWeighting(new WeightingOptions { CAGradC = 0 }).Backward(tasks.Step([[1, 0], [-1, 3]], [1, 1]));

        tasks.SharedGradient().ShouldBe([0.0, 1.5], Tolerance);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.2)]
    public void CAGrad_on_orthogonal_unit_gradients_is_the_mean_scaled_by_1_plus_c_over_1_plus_c_squared(double c)
    {
        using var tasks = new LinearTasks();
        new CAGradWeighting(new WeightingOptions { CAGradC = c }).Backward(tasks.Step([[1, 0], [0, 1]], [1, 1]));

        var expected = (1 + c) / (1 + c * c) * 0.5;
        tasks.SharedGradient().ShouldBe([expected, expected], Tolerance);
    }

    [Fact]
    public void CAGrad_matches_a_direct_search_of_its_two_task_dual()
    {
        double[] g1 = [1, 0], g2 = [-0.5, 1];
        const double c = 0.5;
        using var tasks = new LinearTasks();
        new CAGradWeighting().Backward(tasks.Step([g1, g2], [1, 1]));

        // Independent: ternary search of w ↦ g_w·g0 + c‖g0‖·‖g_w‖ on [0, 1], g_w = w·g1 + (1 − w)·g2.
        double[] g0 = [(g1[0] + g2[0]) / 2, (g1[1] + g2[1]) / 2];
        var radius = c * Math.Sqrt(g0[0] * g0[0] + g0[1] * g0[1]);
        double[] Gw(double w) => [w * g1[0] + (1 - w) * g2[0], w * g1[1] + (1 - w) * g2[1]];
        double F(double w)
        {
            var gw = Gw(w);
            return gw[0] * g0[0] + gw[1] * g0[1] + radius * Math.Sqrt(gw[0] * gw[0] + gw[1] * gw[1]);
        }
        double lo = 0, hi = 1;
        for (var i = 0; i < 200; i++)
        {
            var m1 = lo + (hi - lo) / 3;
            var m2 = hi - (hi - lo) / 3;
            if (F(m1) < F(m2)) { hi = m2; } else { lo = m1; }
        }
        var best = Gw((lo + hi) / 2);
        var bestNorm = Math.Sqrt(best[0] * best[0] + best[1] * best[1]);
        double[] expected = [
            (g0[0] + radius / bestNorm * best[0]) / (1 + c * c),
            (g0[1] + radius / bestNorm * best[1]) / (1 + c * c),
        ];

        tasks.SharedGradient().ShouldBe(expected, 1e-7);
    }

    [Fact]
    public void CAGrad_finds_a_dual_minimum_on_a_face_of_the_simplex_exactly()
    {
        using var tasks = new LinearTasks();
        // g0 = (⅔, ⅔); both terms of the dual are smallest at w = (½, ½, 0): g_w = (½, ½), λ = c‖g0‖/‖g_w‖ = ⅔,
        // d = (g0 + λ·g_w) / (1 + c²) = (1, 1) / 1.25.
        new CAGradWeighting().Backward(tasks.Step([[1, 0], [0, 1], [1, 1]], [1, 1, 1]));

        tasks.SharedGradient().ShouldBe([0.8, 0.8], 1e-9);
    }

    [Fact]
    public void GradNorm_raises_the_weight_of_the_task_with_the_smaller_gradient_norm()
    {
        using var tasks = new LinearTasks();
        var gradNorm = new GradNormWeighting();
        var weights = gradNorm.Backward(tasks.Step([[2, 0], [0, 0.5]], [1, 1]));

        // Weights of the step are the initial ones (1 each); the update comes after.
        weights.ShouldBe([1.0, 1.0], Tolerance);
        tasks.SharedGradient().ShouldBe([2.0, 0.5], Tolerance);
        var state = gradNorm.GetState();
        state["task1"][0].ShouldBeGreaterThan(state["task0"][0]);
    }

    [Fact]
    public void GradNorm_raises_the_weight_of_the_task_that_trains_slower()
    {
        using var tasks = new LinearTasks();
        var gradNorm = new GradNormWeighting();
        gradNorm.Backward(tasks.Step([[1, 0], [0, 1]], [1, 1], step: 0));
        // Same gradient norms; task 0 halved its loss, task 1 did not move.
        gradNorm.Backward(tasks.Step([[1, 0], [0, 1]], [0.5, 1], step: 1));
        var weights = gradNorm.Backward(tasks.Step([[1, 0], [0, 1]], [0.5, 1], step: 2));

        weights[1].ShouldBeGreaterThan(weights[0]);
        (weights[0] + weights[1]).ShouldBe(2.0, Tolerance);
    }

    [Theory]
    [InlineData("pcgrad")]
    [InlineData("mgda")]
    [InlineData("cagrad")]
    [InlineData("gradnorm")]
    public void Gradient_based_strategies_give_heads_their_own_plain_gradients(string name)
    {
        using var tasks = new LinearTasks();
        WeightingCatalog.Create(name).Backward(tasks.Step([[1, 0], [-1, 1], [0, 2]], [1, 2, 3]));

        tasks.HeadGradient(0).ShouldBe(1.0, Tolerance);
        tasks.HeadGradient(1).ShouldBe(2.0, Tolerance);
        tasks.HeadGradient(2).ShouldBe(3.0, Tolerance);
    }
}
