using MtlHost.Core.Weighting;
using Shouldly;
using Xunit;

namespace MtlHost.Tests.Weighting;

public sealed class LossWeightingTests
{
    private const double Tolerance = 1e-9;

    [Fact]
    public void UW_gradient_on_a_log_variance_is_minus_the_loss_over_twice_its_variance_plus_a_half()
    {
        UncertaintyWeighting.LogVarianceGradient(3, -0.5).ShouldBe(-3 / (2 * Math.Exp(-0.5)) + 0.5, Tolerance);
        UncertaintyWeighting.LogVarianceGradient(1, 0).ShouldBe(0, Tolerance);
        // Zero where e^s = L: the optimum log-variance is log L.
        UncertaintyWeighting.LogVarianceGradient(Math.E, 1).ShouldBe(0, Tolerance);
    }

    [Fact]
    public void UW_weighs_by_one_over_twice_the_variance_and_moves_each_log_variance_toward_log_of_its_loss()
    {
        using var tasks = new LinearTasks();
        var uw = new UncertaintyWeighting();
        var weights = uw.Backward(tasks.Step([[1, 0], [0, 1]], [3, 0.2]));

        var w = 1 / (2 * Math.Exp(UncertaintyWeighting.InitialLogVariance));
        weights.ShouldBe([w, w], Tolerance);
        tasks.SharedGradient().ShouldBe([w, w], Tolerance);
        tasks.HeadGradient(1).ShouldBe(2 * w, Tolerance);
        // Adam's first step moves by the learning rate against the gradient's sign: up for the big loss, down for the small one.
        var state = uw.GetState();
        state["task0"][0].ShouldBe(UncertaintyWeighting.InitialLogVariance + 0.025, 1e-6);
        state["task1"][0].ShouldBe(UncertaintyWeighting.InitialLogVariance - 0.025, 1e-6);
    }

    [Fact]
    public void DWA_weighs_by_K_times_the_softmax_of_the_last_loss_ratios_over_T()
    {
        using var tasks = new LinearTasks();
        var dwa = new DynamicWeightAverage(new WeightingOptions { DwaWindow = 1 });
        double[][] a = [[1, 0], [0, 1]];
        dwa.Backward(tasks.Step(a, [1, 1])).ShouldBe([1.0, 1.0], Tolerance);
        dwa.Backward(tasks.Step(a, [0.5, 1])).ShouldBe([1.0, 1.0], Tolerance);
        var weights = dwa.Backward(tasks.Step(a, [0.4, 1]));

        // Ratios 0.5 and 1, T = 2: 2·softmax(0.25, 0.5).
        var e1 = Math.Exp(0.25);
        var e2 = Math.Exp(0.5);
        weights.ShouldBe([2 * e1 / (e1 + e2), 2 * e2 / (e1 + e2)], Tolerance);
        tasks.SharedGradient().ShouldBe([weights[0], weights[1]], Tolerance);
    }

    [Fact]
    public void DWA_averages_losses_over_windows_of_the_tasks_own_steps()
    {
        using var tasks = new LinearTasks();
        var dwa = new DynamicWeightAverage(new WeightingOptions { DwaWindow = 2, DwaTemperature = 1 });
        double[][] a = [[1, 0], [0, 1]];
        // Window means: task 0 (2, 1), task 1 (1, 1).
        double[][] history = [[3, 1], [1, 1], [1, 1], [1, 1]];
        foreach (var losses in history)
        {
            dwa.Backward(tasks.Step(a, losses)).ShouldBe([1.0, 1.0], Tolerance);
        }
        var weights = dwa.Backward(tasks.Step(a, [1, 1]));

        var e1 = Math.Exp(0.5);
        var e2 = Math.Exp(1.0);
        weights.ShouldBe([2 * e1 / (e1 + e2), 2 * e2 / (e1 + e2)], Tolerance);
    }

    [Fact]
    public void RLW_weights_are_positive_sum_to_one_and_are_reproduced_by_the_seed()
    {
        using var tasks = new LinearTasks();
        double[][] a = [[1, 0], [0, 1], [1, 1]];
        var rlw = new RandomLossWeighting();
        var first = rlw.Backward(tasks.Step(a, [1, 1, 1], random: new Random(7))).ToArray();
        var again = rlw.Backward(tasks.Step(a, [1, 1, 1], random: new Random(7))).ToArray();
        var other = rlw.Backward(tasks.Step(a, [1, 1, 1], random: new Random(8))).ToArray();

        first.Sum().ShouldBe(1.0, Tolerance);
        first.ShouldAllBe(w => w > 0);
        again.ShouldBe(first);
        other.ShouldNotBe(first);
        tasks.SharedGradient().ShouldBe([other[0] + other[2], other[1] + other[2]], Tolerance);
    }

    [Fact]
    public void FAMO_weighs_by_softmax_over_loss_normalised_to_sum_one()
    {
        using var tasks = new LinearTasks();
        var weights = new FamoWeighting().Backward(tasks.Step([[1, 0], [0, 1]], [1, 2]));

        // z = (½, ½), c = ½/1 + ½/2 = ¾: w = (⅔, ⅓), the gradient of Σ z_i/c·log L_i.
        weights.ShouldBe([2.0 / 3, 1.0 / 3], 1e-7);
        tasks.SharedGradient().ShouldBe([2.0 / 3, 1.0 / 3], 1e-7);
    }

    [Fact]
    public void FAMO_moves_weight_toward_the_task_whose_loss_improves_slowest()
    {
        using var tasks = new LinearTasks();
        var famo = new FamoWeighting();
        double[][] a = [[1, 0], [0, 1]];
        famo.Backward(tasks.Step(a, [1, 1], step: 0));
        famo.GetState()["task0"][0].ShouldBe(0.0);
        // The next step's losses are the "after" losses: task 0 halved, task 1 fell by 10 %.
        famo.Backward(tasks.Step(a, [0.5, 0.9], step: 1));

        var state = famo.GetState();
        state["task1"][0].ShouldBeGreaterThan(state["task0"][0]);
        // Equal losses next: the weights are the softmax of the logits, now in task 1's favour.
        var weights = famo.Backward(tasks.Step(a, [1, 1], step: 2));
        weights[1].ShouldBeGreaterThan(weights[0]);
    }

    [Fact]
    public void FAMO_updates_only_tasks_that_were_trained_in_the_previous_step()
    {
        using var tasks = new LinearTasks();
        var famo = new FamoWeighting();
        double[][] a = [[1, 0], [0, 1]];
        famo.Backward(tasks.Step(a, [1, 1], step: 0));
        // Step 1 is skipped (say the trainer quarantined something): no fresh "before" loss, no update.
        famo.Backward(tasks.Step(a, [0.5, 0.9], step: 2));

        famo.GetState()["task0"][3].ShouldBe(0.0);
    }
}
