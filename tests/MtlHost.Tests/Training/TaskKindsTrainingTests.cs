using MtlHost.Tests.Infrastructure;
using Shouldly;
using Xunit;

namespace MtlHost.Tests.Training;

/// <summary>
/// The sample tasks of every kind, loaded from their DLLs and trained with the tiny encoder: shapes,
/// batching, metrics and trivial baselines per kind, end to end.
/// </summary>
public sealed class TaskKindsTrainingTests : IDisposable
{
    private readonly TemporaryDirectory _run = new();

    public void Dispose() => _run.Dispose();

    [Fact]
    public void All_six_sample_tasks_train_together_each_scored_by_its_kinds_metric()
    {
        var run = Train(RepositoryPaths.SamplePlugins, "--steps", "24");

        run.ExitCode.ShouldBe(0, run.Error);
        run.Json.GetProperty("refused").GetArrayLength().ShouldBe(0);
        var tasks = run.Json.GetProperty("tasks").EnumerateArray().ToDictionary(t => t.GetProperty("id").GetString()!);
        var primaries = tasks.ToDictionary(t => t.Key, t => t.Value.GetProperty("validation").GetProperty("primary").GetString());
        primaries.ShouldBe(new Dictionary<string, string?>
        {
            ["spam"] = "macro_f1",
            ["wordclass"] = "macro_f1",
            ["supersense"] = "macro_f1",
            ["pos-tagging"] = "token_accuracy",
            ["sensedomains"] = "micro_f1",
            ["syllables"] = "pearson",
        }, ignoreOrder: true);
        foreach (var task in tasks.Values)
        {
            task.GetProperty("state").GetString().ShouldBe("Training");
            task.GetProperty("steps").GetInt32().ShouldBeGreaterThan(0);
            double.IsFinite(task.GetProperty("validation").GetProperty("score").GetDouble()).ShouldBeTrue();
        }
        // The trivial predictors: the most frequent word class is right for some words; a constant has no correlation;
        // no supersense belongs to more than half of the words, so predicting the frequent ones predicts none.
        Baseline(tasks["pos-tagging"]).ShouldBeInRange(0.2, 0.6);
        Baseline(tasks["syllables"]).ShouldBe(0);
        Baseline(tasks["sensedomains"]).ShouldBe(0);
        // A single-label baseline is the majority class's F1 over the labels present: small but not 0.
        Baseline(tasks["supersense"]).ShouldBeGreaterThan(0);
    }

    [Fact]
    public void The_regression_sample_learns_to_correlate_with_the_syllable_count()
    {
        using var plugins = new TemporaryDirectory();
        plugins.CopyPlugin(Path.Combine(RepositoryPaths.SamplePlugins, "Syllables"));

        var run = Train(plugins.Path, "--steps", "150");

        run.ExitCode.ShouldBe(0, run.Error);
        var validation = run.Json.GetProperty("tasks").EnumerateArray().ShouldHaveSingleItem().GetProperty("validation");
        validation.GetProperty("score").GetDouble().ShouldBeGreaterThan(0.2);
        validation.GetProperty("scores").GetProperty("mae").GetDouble().ShouldBeLessThan(1.0);
    }

    [Fact]
    public void A_task_refused_for_bad_data_does_not_stop_a_task_of_another_kind()
    {
        using var plugins = new TemporaryDirectory();
        var syllables = plugins.CopyPlugin(Path.Combine(RepositoryPaths.SamplePlugins, "Syllables"));
        var tagging = plugins.CopyPlugin(Path.Combine(RepositoryPaths.SamplePlugins, "PosTagging"));
        var numbers = Path.Combine(syllables, "data", "syllables", "train.jsonl");
        File.WriteAllLines(numbers, Enumerable.Repeat("""{"text": "cat", "value": "one"}""", 11).Concat(File.ReadLines(numbers)).ToList());
        // One bad line (a label short) is skipped; the task still trains.
        File.AppendAllLines(Path.Combine(tagging, "data", "pos-tagging", "train.jsonl"),
            ["""{"words": ["a", "cat", "ran"], "word_labels": ["other", "noun"]}"""]);

        var run = Train(plugins.Path, "--steps", "4");

        run.ExitCode.ShouldBe(0, run.Error);
        var trained = run.Json.GetProperty("tasks").EnumerateArray().ShouldHaveSingleItem();
        trained.GetProperty("id").GetString().ShouldBe("pos-tagging");
        trained.GetProperty("steps").GetInt32().ShouldBe(4);
        var refusal = run.Json.GetProperty("refused").EnumerateArray().ShouldHaveSingleItem();
        refusal.GetProperty("task").GetString().ShouldBe("syllables");
        refusal.GetProperty("reason").GetString()!.ShouldContain("train.jsonl:1: field \"value\" is not a number");
    }

    private static double Baseline(System.Text.Json.JsonElement task) => task.GetProperty("validation").GetProperty("baseline").GetDouble();

    private HostRun Train(string plugins, params string[] extra) =>
        HostRun.Of(["train", "--encoder", "tiny", "--plugins", plugins, "--json", "--out", _run.Path, .. extra]);
}
