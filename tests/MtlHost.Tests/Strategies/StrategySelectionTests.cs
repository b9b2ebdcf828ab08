using System.Text.Json;
using MtlHost.Core.Weighting;
using MtlHost.Tests.Infrastructure;
using Shouldly;
using Xunit;

namespace MtlHost.Tests.Strategies;

/// <summary>
/// Samplers, weightings and sharing strategies chosen by name on the command line, trained end to
/// end on two real sample plugins (Spam, WordClass) with the tiny encoder.
/// </summary>
public sealed class StrategySelectionTests : IDisposable
{
    private readonly TemporaryDirectory _plugins = new();
    private readonly TemporaryDirectory _run = new();

    public StrategySelectionTests()
    {
        _plugins.CopyPlugin(Path.Combine(RepositoryPaths.SamplePlugins, "Spam"));
        _plugins.CopyPlugin(Path.Combine(RepositoryPaths.SamplePlugins, "WordClass"));
    }

    public void Dispose()
    {
        _plugins.Dispose();
        _run.Dispose();
    }

    [Fact]
    public void Every_weighting_trains_both_tasks_and_gradient_based_ones_get_every_task_every_step()
    {
        foreach (var weighting in WeightingCatalog.Names)
        {
            // A run folder of its own each: the same --out would resume the previous weighting's run (and refuse another weighting).
            var run = TrainIn(_run.Combine(weighting), "--steps", "4", "--weighting", weighting.ToUpperInvariant());

            run.ExitCode.ShouldBe(0, $"{weighting}: {run.Error}");
            run.Json.GetProperty("weighting").GetString().ShouldBe(weighting);
            var needsEveryTask = WeightingCatalog.Create(weighting).NeedsEveryTask;
            run.Json.GetProperty("sampler").GetString().ShouldBe(needsEveryTask ? "all-tasks" : "proportional", weighting);
            var steps = Tasks(run).Select(t => t.GetProperty("steps").GetInt32()).ToList();
            steps.Sum().ShouldBe(needsEveryTask ? 8 : 4, weighting);
            foreach (var task in Tasks(run))
            {
                task.GetProperty("state").GetString().ShouldBe("Training", weighting);
                double.IsFinite(task.GetProperty("validation").GetProperty("loss").GetDouble()).ShouldBeTrue(weighting);
            }
            using var manifest = JsonDocument.Parse(File.ReadAllText(_run.Combine(weighting, "checkpoint", "manifest.json")));
            var saved = manifest.RootElement.GetProperty("weighting");
            saved.GetProperty("name").GetString().ShouldBe(weighting);
            if (weighting == "uw")
            {
                // UW learns a log-variance per task: both are in the checkpoint.
                saved.GetProperty("state").EnumerateObject().Select(p => p.Name).ShouldBe(["spam", "wordclass"], ignoreOrder: true);
            }
        }
    }

    [Fact]
    public void A_gradient_based_weighting_with_a_sampler_that_does_not_give_every_task_exits_2_naming_the_fix()
    {
        var run = Train("--weighting", "pcgrad", "--sampler", "temperature");

        run.ExitCode.ShouldBe(2);
        run.Error.ShouldContain("--sampler all-tasks");
    }

    [Theory]
    [InlineData("--weighting", "gradvac", "ew, uw, dwa, rlw, famo, gradnorm, pcgrad, mgda, cagrad")]
    [InlineData("--sampler", "round-robin", "uniform, proportional, temperature, annealed, all-tasks")]
    [InlineData("--sharing", "soft", "hard, top-layers, adapters")]
    public void An_unknown_strategy_name_exits_2_listing_the_known_ones(string option, string value, string known)
    {
        var run = Train(option, value);

        run.ExitCode.ShouldBe(2);
        run.Error.ShouldContain(value);
        run.Error.ShouldContain(known);
    }

    [Theory]
    [InlineData("--sharing top-layers --shared-layers 2", "--shared-layers")]
    [InlineData("--patience 2", "--eval-every")]
    [InlineData("--task-groups a,b;c,a --sharing adapters", "two groups")]
    [InlineData("--temperature 0 --sampler temperature", "temperature")]
    public void A_strategy_setting_that_cannot_work_exits_2_naming_it(string options, string named)
    {
        var run = Train(options.Split(' '));

        run.ExitCode.ShouldBe(2, run.Output);
        run.Error.ShouldContain(named);
    }

    [Fact]
    public void Top_layer_sharing_gives_each_task_group_its_own_copied_layers_in_the_checkpoint()
    {
        var run = Train("--steps", "3", "--sharing", "top-layers", "--shared-layers", "1", "--task-groups", "text: spam, wordclass");

        run.ExitCode.ShouldBe(0, run.Error);
        run.Json.GetProperty("sharing").GetString().ShouldBe("top-layers");
        using var manifest = JsonDocument.Parse(File.ReadAllText(_run.Combine("checkpoint", "manifest.json")));
        manifest.RootElement.GetProperty("sharing").GetString().ShouldBe("top-layers");
        var branch = manifest.RootElement.GetProperty("branches").EnumerateArray().ShouldHaveSingleItem();
        branch.GetProperty("name").GetString().ShouldBe("text");
        File.Exists(_run.Combine("checkpoint", branch.GetProperty("file").GetString()!)).ShouldBeTrue();
    }

    [Fact]
    public void Adapter_sharing_gives_each_task_its_own_adapters_in_the_checkpoint()
    {
        var run = Train("--steps", "3", "--sharing", "adapters", "--adapter-size", "8", "--freeze-encoder");

        run.ExitCode.ShouldBe(0, run.Error);
        using var manifest = JsonDocument.Parse(File.ReadAllText(_run.Combine("checkpoint", "manifest.json")));
        var branches = manifest.RootElement.GetProperty("branches").EnumerateArray().ToList();
        branches.Select(b => b.GetProperty("name").GetString()).ShouldBe(["spam", "wordclass"]);
        // Tiny encoder: H = 64, L = 2; two adapters per layer of 2·H·a + a + H parameters.
        branches.ShouldAllBe(b => b.GetProperty("parameters").GetInt64() == 2 * 2 * (2 * 64 * 8 + 8 + 64));
    }

    [Fact]
    public void Single_task_baselines_feed_model_selection_by_delta_m_and_the_compare_report()
    {
        var baselines = _run.Combine("baselines");
        var single = HostRun.Of(["train", "--encoder", "tiny", "--plugins", _plugins.Path, "--json", "--out", baselines, "--steps", "6", "--single-task"]);

        single.ExitCode.ShouldBe(0, single.Error);
        single.Json.GetProperty("singleTask").GetBoolean().ShouldBeTrue();
        Tasks(single).Select(t => t.GetProperty("steps").GetInt32()).ShouldBe([6, 6]);
        File.Exists(Path.Combine(baselines, "baselines.json")).ShouldBeTrue();
        File.Exists(Path.Combine(baselines, "single-task", "spam", "checkpoint", "manifest.json")).ShouldBeTrue();

        var joint = _run.Combine("joint");
        var run = HostRun.Of(["train", "--encoder", "tiny", "--plugins", _plugins.Path, "--json", "--out", joint, "--steps", "6",
            "--eval-every", "2", "--baselines", Path.Combine(baselines, "baselines.json")]);

        run.ExitCode.ShouldBe(0, run.Error);
        var best = run.Json.GetProperty("best");
        best.GetProperty("measure").GetString().ShouldBe("Δm%");
        double.IsFinite(best.GetProperty("score").GetDouble()).ShouldBeTrue();
        File.Exists(Path.Combine(joint, "best", "manifest.json")).ShouldBeTrue();

        var compare = HostRun.Of(["compare", "--baselines", baselines, joint]);
        compare.ExitCode.ShouldBe(0, compare.Error);
        compare.Output.ShouldContain("Δm%");
        compare.Output.ShouldContain("spam");
        compare.Output.ShouldContain("wordclass");
    }

    private static IEnumerable<JsonElement> Tasks(HostRun run) => run.Json.GetProperty("tasks").EnumerateArray();

    private HostRun Train(params string[] extra) => TrainIn(_run.Path, extra);

    private HostRun TrainIn(string outDirectory, params string[] extra) =>
        HostRun.Of(["train", "--encoder", "tiny", "--plugins", _plugins.Path, "--json", "--out", outDirectory, .. extra]);
}
