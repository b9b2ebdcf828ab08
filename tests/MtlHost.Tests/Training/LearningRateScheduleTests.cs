using MtlHost.Core.Training;
using Shouldly;
using Xunit;

namespace MtlHost.Tests.Training;

/// <summary>The learning-rate schedule of a fixed-length run and of a continuous one (serve).</summary>
public sealed class LearningRateScheduleTests
{
    [Fact]
    public void A_fixed_run_warms_up_then_decays_to_zero_at_its_last_step()
    {
        var options = new TrainingOptions { Steps = 100, WarmupFraction = 0.1 };

        options.LearningRateFactor(0).ShouldBeLessThan(options.LearningRateFactor(5));
        options.LearningRateFactor(10).ShouldBe(1.0);
        options.LearningRateFactor(55).ShouldBe(0.5);
        options.LearningRateFactor(100).ShouldBe(0.0);
        options.LearningRateFactor(500).ShouldBe(0.0);
    }

    [Fact]
    public void A_continuous_run_warms_up_the_same_way_then_stays_at_the_peak()
    {
        var fixedRun = new TrainingOptions { Steps = 100, WarmupFraction = 0.1 };
        var continuous = fixedRun with { Continuous = true };

        for (var step = 0; step < 10; step++)
        {
            continuous.LearningRateFactor(step).ShouldBe(fixedRun.LearningRateFactor(step));
        }
        continuous.LearningRateFactor(10).ShouldBe(1.0);
        continuous.LearningRateFactor(100).ShouldBe(1.0);
        continuous.LearningRateFactor(1_000_000).ShouldBe(1.0);
    }

    [Fact]
    public void A_fixed_run_has_a_step_budget_and_a_continuous_one_has_none()
    {
        var fixedRun = new TrainingOptions { Steps = 100 };
        var continuous = fixedRun with { Continuous = true };

        fixedRun.StepBudget.ShouldBe(100);
        fixedRun.HasStepsLeft(99).ShouldBeTrue();
        fixedRun.HasStepsLeft(100).ShouldBeFalse();
        fixedRun.StepBudgetText.ShouldBe("100");
        continuous.StepBudget.ShouldBeNull();
        continuous.HasStepsLeft(1_000_000).ShouldBeTrue();
        continuous.StepBudgetText.ShouldBe("∞");
    }
}
