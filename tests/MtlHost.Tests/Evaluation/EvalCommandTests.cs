using System.Text.Json;
using System.Text.Json.Nodes;
using MtlHost.Tests.Inference;
using MtlHost.Tests.Infrastructure;
using Shouldly;
using Xunit;

namespace MtlHost.Tests.Evaluation;

/// <summary><c>mtlhost eval</c> end to end, in process, on the checkpoint the inference tests share.</summary>
[Collection(InferenceCollection.Name)]
public sealed class EvalCommandTests(InferenceCheckpoint checkpoint)
{
    [Fact]
    public void Validation_scores_are_the_ones_the_training_summary_reports_for_the_same_checkpoint()
    {
        var run = HostRun.Of("eval", "--checkpoint", checkpoint.Checkpoint, "--plugins", checkpoint.Plugins, "--json");

        run.ExitCode.ShouldBe(0, run.Error);
        var evaluation = run.Json;
        evaluation.GetProperty("split").GetString().ShouldBe("validation");
        evaluation.GetProperty("step").GetInt32().ShouldBe(4);
        evaluation.GetProperty("encoder").GetString().ShouldBe("tiny");
        var evaluated = evaluation.GetProperty("tasks").EnumerateArray().ToDictionary(t => t.GetProperty("id").GetString()!);
        evaluated.Keys.ShouldBe(InferenceCheckpoint.TaskIds);

        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(checkpoint.Run, "summary.json")));
        foreach (var task in summary.RootElement.GetProperty("tasks").EnumerateArray())
        {
            var id = task.GetProperty("id").GetString()!;
            var trained = task.GetProperty("validation");
            var result = evaluated[id];
            result.GetProperty("outcome").GetString().ShouldBe("Evaluated");
            result.GetProperty("state").GetString().ShouldBe("Training");
            var scored = result.GetProperty("result");
            // The same evaluator on the same weights and batches: equal to the last digit, not merely close.
            scored.GetProperty("examples").GetInt32().ShouldBe(trained.GetProperty("examples").GetInt32(), id);
            scored.GetProperty("primary").GetString().ShouldBe(trained.GetProperty("primary").GetString(), id);
            Number(scored, "loss").ShouldBe(Number(trained, "loss"), id);
            Number(scored, "score").ShouldBe(Number(trained, "score"), id);
            Number(scored, "baseline").ShouldBe(Number(trained, "baseline"), id);
            Scores(scored).ShouldBe(Scores(trained), id);
        }
    }

    [Fact]
    public void The_test_split_is_scored_and_a_task_without_test_data_or_without_its_plugin_is_listed_with_the_reason()
    {
        // Spam ships no test split here, and the pair task had been removed from the run with its plugin.
        var plugins = checkpoint.CopyPlugins(without: "Pairs");
        File.Delete(Path.Combine(plugins, "Spam", "data", "spam", "test.jsonl"));
        var removed = checkpoint.CopyCheckpoint(manifest =>
        {
            var root = JsonNode.Parse(manifest)!;
            root["tasks"]!.AsArray().Single(t => (string?)t!["id"] == "pairs")!["state"] = "Removed";
            return root.ToJsonString();
        });

        var run = HostRun.Of("eval", "--checkpoint", removed, "--plugins", plugins, "--split", "test");

        run.ExitCode.ShouldBe(0, run.Error);
        var lines = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines[0].ShouldStartWith($"evaluated checkpoint {removed} (step 4, encoder tiny) on the test split");
        lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries).ShouldBe(
            ["task", "plugin", "state", "examples", "test", "loss", "primary", "score", "baseline", "other", "scores"]);
        foreach (var task in new[] { "pos-tagging", "sensedomains", "supersense", "syllables", "wordclass" })
        {
            var cells = lines.Single(l => l.StartsWith(task + " ", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            int.Parse(cells[3]).ShouldBe(TestLines(task), task);
            double.TryParse(cells[4], System.Globalization.CultureInfo.InvariantCulture, out _).ShouldBeTrue(task);
        }
        lines.Single(l => l.StartsWith("spam ", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[3].ShouldBe("-");
        lines.ShouldContain(l => l.StartsWith("not evaluated spam: no test data:", StringComparison.Ordinal) && l.Contains("test.jsonl"));
        lines.ShouldContain(l => l.StartsWith("unavailable pairs:", StringComparison.Ordinal) && l.Contains("needs plugin 'Pairs'"));
    }

    [Fact]
    public void A_missing_or_incomplete_checkpoint_a_bad_split_or_a_trained_tasks_missing_plugin_exits_2_naming_the_fix()
    {
        var missing = HostRun.Of("eval", "--checkpoint", Path.Combine(checkpoint.NewFolder(), "none"), "--plugins", checkpoint.Plugins);
        missing.ExitCode.ShouldBe(2);
        missing.Error.ShouldContain("does not exist");
        missing.Error.ShouldContain("<run>/checkpoint");

        var noCheckpoint = HostRun.Of("eval", "--plugins", checkpoint.Plugins);
        noCheckpoint.ExitCode.ShouldBe(2);
        noCheckpoint.Error.ShouldContain("--checkpoint DIR is required");

        var runFolder = HostRun.Of("eval", "--checkpoint", checkpoint.Run, "--plugins", checkpoint.Plugins);
        runFolder.ExitCode.ShouldBe(2);
        runFolder.Error.ShouldContain("not a checkpoint folder");

        var badSplit = HostRun.Of("eval", "--checkpoint", checkpoint.Checkpoint, "--split", "train");
        badSplit.ExitCode.ShouldBe(2);
        badSplit.Error.ShouldContain("--split 'train' is not known; use one of validation, test");

        var truncated = checkpoint.CopyCheckpoint(manifest => manifest);
        var head = Path.Combine(truncated, "heads", "spam.bin");
        File.WriteAllBytes(head, File.ReadAllBytes(head)[..10]);
        var incomplete = HostRun.Of("eval", "--checkpoint", truncated, "--plugins", checkpoint.Plugins);
        incomplete.ExitCode.ShouldBe(2);
        incomplete.Error.ShouldContain("is incomplete: its file heads/spam.bin has 10 bytes");
        incomplete.Error.ShouldContain("Evaluate another checkpoint");

        var withoutSpam = HostRun.Of("eval", "--checkpoint", checkpoint.Checkpoint, "--plugins", checkpoint.CopyPlugins(without: "Spam"));
        withoutSpam.ExitCode.ShouldBe(2);
        withoutSpam.Error.ShouldContain("Task 'spam' needs plugin 'Spam'");
        withoutSpam.Error.ShouldContain("Pass --plugins");
        withoutSpam.Output.ShouldBeEmpty();
    }

    private static double Number(JsonElement element, string name) => Number(element.GetProperty(name));

    // Non-finite scores are written as strings ("NaN").
    private static double Number(JsonElement value) =>
        value.ValueKind == JsonValueKind.String ? double.Parse(value.GetString()!, System.Globalization.CultureInfo.InvariantCulture) : value.GetDouble();

    private static Dictionary<string, double> Scores(JsonElement result) =>
        result.GetProperty("scores").EnumerateObject().ToDictionary(p => p.Name, p => Number(p.Value));

    // The sample data's test split, a line per example.
    private static int TestLines(string task) =>
        File.ReadLines(Path.Combine(RepositoryPaths.SampleData, task, "test.jsonl")).Count(l => !string.IsNullOrWhiteSpace(l));
}
