using MtlHost.Core.Evaluation;
using MtlHost.Core.Training;
using Shouldly;
using Xunit;

namespace MtlHost.Tests.Evaluation;

public sealed class DeltaMTests
{
    private static TaskMetrics Task(string id, string primary, bool higher, params (string Name, double Value)[] scores) =>
        new(id, primary, higher, scores.ToDictionary(s => s.Name, s => s.Value));

    // Hand-computed: classification macro_f1 0.80 -> 0.88 (higher better): -(0.80-0.88)/0.80*100 = +10;
    // regression mae 2.0 -> 2.5 (lower better): +(2.0-2.5)/2.0*100 = -25; Δm% = (10 - 25) / 2 = -7.5.
    private static readonly TaskMetrics[] Baseline =
    [
        Task("cls", "macro_f1", true, ("macro_f1", 0.80), ("accuracy", 0.50), ("weird", 1.0)),
        Task("reg", "mae", false, ("mae", 2.0), ("mse", 4.0), ("pearson", 0.5)),
    ];

    private static readonly TaskMetrics[] Run =
    [
        Task("cls", "macro_f1", true, ("macro_f1", 0.88), ("accuracy", 0.60), ("weird", 2.0)),
        Task("reg", "mae", false, ("mae", 2.5), ("mse", 3.0), ("pearson", 0.4)),
    ];

    [Fact]
    public void Primary_scores_of_a_higher_better_and_a_lower_better_task_give_the_hand_computed_value()
    {
        var result = DeltaM.Compute(Baseline, Run);

        result.Percent!.Value.ShouldBe(-7.5, 1e-9);
        result.Tasks.Select(t => t.TaskId).ShouldBe(["cls", "reg"]);
        result.Tasks[0].Percent!.Value.ShouldBe(10, 1e-9);
        result.Tasks[1].Percent!.Value.ShouldBe(-25, 1e-9);
        result.Tasks.ShouldAllBe(t => t.Metrics.Count == 1);
        result.CountedTasks.ShouldBe(2);
        result.Notes.ShouldBeEmpty();
    }

    [Fact]
    public void All_metrics_mode_averages_every_known_score_per_task_and_leaves_unknown_names_out()
    {
        var result = DeltaM.Compute(Baseline, Run, DeltaMScope.AllKnownMetrics);

        // cls: macro_f1 +10, accuracy +20 -> 15. reg: mae -25, mse (4-3)/4*100 = +25, pearson -20 -> -20/3.
        result.Tasks[0].Percent!.Value.ShouldBe(15, 1e-9);
        result.Tasks[1].Percent!.Value.ShouldBe(-20.0 / 3, 1e-9);
        result.Percent!.Value.ShouldBe((15 - 20.0 / 3) / 2, 1e-9);
        result.Tasks[0].Metrics.Select(m => m.Name).ShouldBe(["macro_f1", "accuracy"]);
        result.Notes.ShouldContain(n => n.Contains("cls/weird") && n.Contains("direction unknown"));
    }

    [Fact]
    public void A_zero_baseline_is_skipped_with_a_note_and_never_gives_NaN()
    {
        var baseline = new[] { Task("cls", "macro_f1", true, ("macro_f1", 0.0)), Baseline[1] };

        var result = DeltaM.Compute(baseline, Run);

        result.Percent!.Value.ShouldBe(-25, 1e-9);
        result.Tasks[0].Percent.ShouldBeNull();
        result.Tasks[0].Metrics[0].Note!.ShouldContain("division by zero");
        result.Notes.ShouldContain(n => n.StartsWith("cls/") && n.Contains("division by zero"));
        result.Notes.ShouldContain(n => n.Contains("cls: no score could be compared"));
        result.CountedTasks.ShouldBe(1);

        var none = DeltaM.Compute([Task("cls", "macro_f1", true, ("macro_f1", 0.0))], Run);
        none.Percent.ShouldBeNull();
    }

    [Fact]
    public void Tasks_on_one_side_only_are_listed_and_left_out()
    {
        var run = new[] { Run[0], Task("extra", "accuracy", true, ("accuracy", 0.9)) };

        var result = DeltaM.Compute(Baseline, run);

        result.Percent!.Value.ShouldBe(10, 1e-9);
        result.MissingFromRun.ShouldBe(["reg"]);
        result.MissingFromBaseline.ShouldBe(["extra"]);
        result.Tasks.Select(t => t.TaskId).ShouldBe(["cls"]);
        result.Notes.ShouldContain("reg: no scores in the run; left out of Δm%.");
        result.Notes.ShouldContain("extra: no baseline; left out of Δm%.");
    }

    [Fact]
    public void A_negative_baseline_divides_by_its_magnitude_so_an_improvement_counts_as_positive()
    {
        var result = DeltaM.Compute([Task("sts", "pearson", true, ("pearson", -0.2))], [Task("sts", "pearson", true, ("pearson", 0.1))]);

        result.Percent!.Value.ShouldBe(150, 1e-9);
        result.Tasks[0].Metrics[0].Note!.ShouldContain("negative");
    }

    [Fact]
    public void A_non_finite_score_is_skipped_with_a_note()
    {
        var result = DeltaM.Compute([Baseline[0]], [Task("cls", "macro_f1", true, ("macro_f1", double.NaN))]);

        result.Percent.ShouldBeNull();
        result.Tasks[0].Metrics[0].Note!.ShouldContain("not a finite number");
    }

    [Fact]
    public void Evaluation_scores_from_training_can_be_compared_directly()
    {
        var scores = new TaskScores("cls", 10, 0.5, new Dictionary<string, double> { ["macro_f1"] = 0.88 }, "macro_f1", true, 0.3);

        DeltaM.Compute([Baseline[0]], [scores]).Percent!.Value.ShouldBe(10, 1e-9);
    }

    [Fact]
    public void A_task_given_twice_is_refused()
    {
        Should.Throw<ArgumentException>(() => DeltaM.Compute([Baseline[0], Baseline[0]], Run)).Message.ShouldContain("'cls' appears more than once");
    }

    [Theory]
    [InlineData("macro_f1", true)]
    [InlineData("span_recall", true)]
    [InlineData("token_accuracy", true)]
    [InlineData("exact_match", true)]
    [InlineData("mcc", true)]
    [InlineData("mae", false)]
    [InlineData("mse", false)]
    public void Score_directions_of_the_SDK_metrics_are_known(string name, bool higher) =>
        MetricDirections.HigherIsBetter(name).ShouldBe(higher);

    [Fact]
    public void An_unknown_score_name_has_no_direction() => MetricDirections.HigherIsBetter("perplexity_ratio").ShouldBeNull();
}
