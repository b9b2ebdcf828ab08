using MtlHost.Core.Weighting;
using Shouldly;
using Xunit;

namespace MtlHost.Tests.Weighting;

public sealed class WeightingStateAndCatalogTests
{
    [Fact]
    public void Catalog_knows_every_strategy_by_name_case_insensitively()
    {
        WeightingCatalog.Names.ShouldBe(["ew", "uw", "dwa", "rlw", "famo", "gradnorm", "pcgrad", "mgda", "cagrad"]);
        foreach (var name in WeightingCatalog.Names)
        {
            WeightingCatalog.Create(name.ToUpperInvariant()).Name.ShouldBe(name);
        }
    }

    [Fact]
    public void Catalog_refuses_an_unknown_name_listing_the_known_ones()
    {
        var error = Should.Throw<ArgumentException>(() => WeightingCatalog.Create("nash-mtl"));

        error.Message.ShouldContain("nash-mtl");
        foreach (var name in WeightingCatalog.Names)
        {
            error.Message.ShouldContain(name);
        }
    }

    [Fact]
    public void Catalog_refuses_an_option_out_of_range_naming_it()
    {
        var error = Should.Throw<ArgumentException>(() => WeightingCatalog.Create("dwa", new WeightingOptions { DwaTemperature = 0 }));

        error.Message.ShouldContain("DwaTemperature");
    }

    [Theory]
    [InlineData("ew", false)]
    [InlineData("uw", false)]
    [InlineData("rlw", false)]
    [InlineData("dwa", true)]
    [InlineData("famo", true)]
    [InlineData("gradnorm", true)]
    [InlineData("pcgrad", true)]
    [InlineData("mgda", true)]
    [InlineData("cagrad", true)]
    public void Strategies_that_compare_tasks_within_a_step_need_every_task(string name, bool needsEveryTask) =>
        WeightingCatalog.Create(name).NeedsEveryTask.ShouldBe(needsEveryTask);

    [Theory]
    [InlineData("uw")]
    [InlineData("dwa")]
    [InlineData("famo")]
    [InlineData("gradnorm")]
    public void Tasks_joining_and_leaving_keep_the_other_tasks_state(string name)
    {
        using var tasks = new LinearTasks();
        var weighting = WeightingCatalog.Create(name, new WeightingOptions { DwaWindow = 1 });
        double[][] a = [[1, 0], [0, 1]];
        for (var step = 0; step < 3; step++)
        {
            weighting.Backward(tasks.Step(a, [1.0 / (step + 1), 1.0 / (step + 2)], ["a", "b"], step));
        }
        var before = weighting.GetState();

        // "a" leaves, "c" joins.
        weighting.Backward(tasks.Step(a, [0.2, 1], ["b", "c"], 3));
        var after = weighting.GetState();

        after.Keys.Order().ShouldBe(["a", "b", "c"]);
        after["a"].ShouldBe(before["a"]);
        after["b"].ShouldNotBe(before["b"]);
        // A fresh strategy's row for a task it has seen once: "c" started from the initial state.
        var fresh = WeightingCatalog.Create(name, new WeightingOptions { DwaWindow = 1 });
        fresh.Backward(tasks.Step([[0, 1]], [1], ["c"], 0));
        if (name is "uw" or "dwa")
        {
            // These rows depend on the task alone.
            after["c"].ShouldBe(fresh.GetState()["c"]);
        }
        after["c"].Length.ShouldBe(fresh.GetState()["c"].Length);
    }

    [Theory]
    [InlineData("uw")]
    [InlineData("dwa")]
    [InlineData("famo")]
    [InlineData("gradnorm")]
    public void State_restored_from_a_snapshot_gives_the_same_next_step(string name)
    {
        using var tasks = new LinearTasks();
        var options = new WeightingOptions { DwaWindow = 1 };
        var original = WeightingCatalog.Create(name, options);
        double[][] a = [[1, 0], [0, 2]];
        for (var step = 0; step < 4; step++)
        {
            original.Backward(tasks.Step(a, [1.0 / (step + 1), 2.0 / (step + 3)], step: step));
        }
        var restored = WeightingCatalog.Create(name, options);
        restored.SetState(original.GetState());

        var expected = original.Backward(tasks.Step(a, [0.1, 0.3], step: 4));
        restored.Backward(tasks.Step(a, [0.1, 0.3], step: 4)).ShouldBe(expected);
        var restoredState = restored.GetState();
        foreach (var (taskId, row) in original.GetState())
        {
            restoredState[taskId].ShouldBe(row);
        }
    }

    [Fact]
    public void A_snapshot_of_another_layout_is_refused()
    {
        var uw = WeightingCatalog.Create("uw");
        var famoState = new Dictionary<string, double[]> { ["a"] = [0, 0, 0, 0, 1, 3] };

        Should.Throw<ArgumentException>(() => uw.SetState(famoState)).Message.ShouldContain("'a'");
        Should.Throw<ArgumentException>(() => WeightingCatalog.Create("pcgrad").SetState(famoState));
    }
}
