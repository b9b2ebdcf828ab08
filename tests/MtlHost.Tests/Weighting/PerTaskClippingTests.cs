using MtlHost.Core.Weighting;
using Shouldly;
using TorchSharp.Modules;
using Xunit;

namespace MtlHost.Tests.Weighting;

/// <summary>Per-task clipping bounds each task's gradient before the weighting adds them up; global clipping bounds the sum.</summary>
public sealed class PerTaskClippingTests
{
    [Fact]
    public void Each_tasks_gradient_is_clipped_alone_then_weighted_and_summed()
    {
        using var tasks = new LinearTasks(2);
        Parameter[] all = [tasks.Shared, .. tasks.Heads];
        double[][] a = [[30, 40], [0.3, 0.4]];
        double[] weights = [1.0, 0.5];
        var step = tasks.Step(a, [1, 1], perTaskClip: new PerTaskGradientClip(all, 1.0));

        step.BackwardWeighted(weights);

        step.ClippedPerTask.ShouldBeTrue();
        // Task i's whole gradient is (a_i, head i + 1): its norm is bounded by 1, then it is weighted.
        var scale = a.Select((g, i) => Math.Min(1.0, 1.0 / Math.Sqrt(g[0] * g[0] + g[1] * g[1] + (i + 1) * (i + 1)))).ToArray();
        tasks.SharedGradient().ShouldBe([weights[0] * scale[0] * 30 + weights[1] * scale[1] * 0.3, weights[0] * scale[0] * 40 + weights[1] * scale[1] * 0.4], 1e-6);
        tasks.HeadGradient(0).ShouldBe(weights[0] * scale[0] * 1, 1e-6);
        tasks.HeadGradient(1).ShouldBe(weights[1] * scale[1] * 2, 1e-6);
        // The small task keeps its share: clipping the sum instead would have scaled it by about 1/50.
        (scale[1] * 0.5).ShouldBeGreaterThan(0.2);
    }

    [Fact]
    public void With_one_task_the_per_task_clip_is_the_callers_single_clip()
    {
        using var tasks = new LinearTasks(1);
        Parameter[] all = [tasks.Shared, .. tasks.Heads];
        var step = tasks.Step([[30, 40]], [1], perTaskClip: new PerTaskGradientClip(all, 1.0));

        step.BackwardWeighted([1.0]);

        step.ClippedPerTask.ShouldBeFalse();
        tasks.SharedGradient().ShouldBe([30.0, 40.0], 1e-9);
    }

    [Fact]
    public void Without_a_per_task_clip_the_weighted_sum_is_left_to_the_caller()
    {
        using var tasks = new LinearTasks(2);
        var step = tasks.Step([[30, 40], [0.3, 0.4]], [1, 1]);

        step.BackwardWeighted([1.0, 1.0]);

        step.ClippedPerTask.ShouldBeFalse();
        tasks.SharedGradient().ShouldBe([30.3, 40.4], 1e-9);
    }
}
