using MtlHost.Tests.Infrastructure;
using Shouldly;
using Xunit;

namespace MtlHost.Tests.Inference;

/// <summary><c>mtlhost predict</c> end to end, in process.</summary>
[Collection(InferenceCollection.Name)]
public sealed class PredictCommandTests(InferenceCheckpoint checkpoint)
{
    [Fact]
    public void Predict_prints_a_row_per_task_and_notes_the_skipped_pair_task()
    {
        var run = HostRun.Of("predict", "--checkpoint", checkpoint.Checkpoint, "--plugins", checkpoint.Plugins, "--text", "free money, click now");

        run.ExitCode.ShouldBe(0, run.Error);
        var lines = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines[0].ShouldContain("step 4");
        foreach (var task in InferenceCheckpoint.TaskIds.Where(t => t != "pairs"))
        {
            lines.ShouldContain(l => l.StartsWith(task + " ", StringComparison.Ordinal));
        }
        lines.ShouldContain(l => l.StartsWith("note: task 'pairs' skipped", StringComparison.Ordinal));
    }

    [Fact]
    public void Predict_json_is_one_object_with_each_kinds_prediction()
    {
        var run = HostRun.Of("predict", "--checkpoint", checkpoint.Checkpoint, "--plugins", checkpoint.Plugins,
            "--text", "the cat sleeps", "--pair", "a cat runs", "--json");

        run.ExitCode.ShouldBe(0, run.Error);
        run.Json.GetProperty("step").GetInt32().ShouldBe(4);
        var tasks = run.Json.GetProperty("tasks").EnumerateArray().ToDictionary(t => t.GetProperty("taskId").GetString()!);
        tasks.Keys.ShouldBe(InferenceCheckpoint.TaskIds);
        tasks["pairs"].GetProperty("label").GetString().ShouldBeOneOf("different", "same");
        tasks["spam"].GetProperty("scores").EnumerateObject().Count().ShouldBe(2);
        tasks["sensedomains"].TryGetProperty("labels", out _).ShouldBeTrue();
        tasks["pos-tagging"].GetProperty("words").GetArrayLength().ShouldBe(3);
        tasks["syllables"].GetProperty("value").GetDouble().ShouldBeOfType<double>();
        tasks["syllables"].TryGetProperty("label", out _).ShouldBeFalse();
        run.Json.GetProperty("notes").GetArrayLength().ShouldBe(0);
    }

    [Fact]
    public void Predict_one_task_prints_only_that_task()
    {
        var run = HostRun.Of("predict", "--checkpoint", checkpoint.Checkpoint, "--plugins", checkpoint.Plugins, "--text", "quickly", "--task", "wordclass", "--json");

        run.ExitCode.ShouldBe(0, run.Error);
        run.Json.GetProperty("tasks").EnumerateArray().ShouldHaveSingleItem().GetProperty("label").GetString()
            .ShouldBeOneOf("noun", "verb", "adjective", "adverb");
    }

    [Fact]
    public void An_unknown_task_exits_2_listing_the_tasks()
    {
        var run = HostRun.Of("predict", "--checkpoint", checkpoint.Checkpoint, "--plugins", checkpoint.Plugins, "--text", "x", "--task", "sentiment");

        run.ExitCode.ShouldBe(2);
        run.Error.ShouldContain("Unknown task 'sentiment'");
        run.Error.ShouldContain(string.Join(", ", InferenceCheckpoint.TaskIds));
    }

    [Fact]
    public void A_missing_checkpoint_a_missing_text_or_changed_plugins_exit_2()
    {
        var missing = HostRun.Of("predict", "--checkpoint", Path.Combine(checkpoint.NewFolder(), "none"), "--plugins", checkpoint.Plugins, "--text", "x");
        missing.ExitCode.ShouldBe(2);
        missing.Error.ShouldContain("does not exist");

        var noText = HostRun.Of("predict", "--checkpoint", checkpoint.Checkpoint);
        noText.ExitCode.ShouldBe(2);
        noText.Error.ShouldContain("--text");

        var withoutSpam = HostRun.Of("predict", "--checkpoint", checkpoint.Checkpoint, "--plugins", checkpoint.CopyPlugins(without: "Spam"), "--text", "x");
        withoutSpam.ExitCode.ShouldBe(2);
        withoutSpam.Error.ShouldContain("Task 'spam'");
    }
}
