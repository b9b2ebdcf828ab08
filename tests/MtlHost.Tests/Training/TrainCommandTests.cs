using System.Security.Cryptography;
using System.Text.Json;
using MtlHost.Tests.Infrastructure;
using Shouldly;
using Xunit;

namespace MtlHost.Tests.Training;

/// <summary>
/// The train command end to end, in-process, with the tiny encoder and the real sample plugins
/// loaded from their DLLs.
/// </summary>
public sealed class TrainCommandTests : IDisposable
{
    private readonly TemporaryDirectory _run = new();

    public void Dispose() => _run.Dispose();

    [Fact]
    public void Both_sample_tasks_train_and_beat_the_majority_baseline()
    {
        // The two sequence-classification samples alone, so each gets about half of the steps.
        using var plugins = new TemporaryDirectory();
        plugins.CopyPlugin(Path.Combine(RepositoryPaths.SamplePlugins, "Spam"));
        plugins.CopyPlugin(Path.Combine(RepositoryPaths.SamplePlugins, "WordClass"));
        var run = Train(plugins.Path, "--steps", "300");

        run.ExitCode.ShouldBe(0, run.Error);
        var tasks = run.Json.GetProperty("tasks").EnumerateArray().ToDictionary(t => t.GetProperty("id").GetString()!);
        tasks.Keys.ShouldBe(["spam", "wordclass"], ignoreOrder: true);
        foreach (var task in tasks.Values)
        {
            task.GetProperty("state").GetString().ShouldBe("Training");
            task.GetProperty("steps").GetInt32().ShouldBeGreaterThan(0);
            var validation = task.GetProperty("validation");
            validation.GetProperty("primary").GetString().ShouldBe("macro_f1");
            var score = validation.GetProperty("score").GetDouble();
            var baseline = validation.GetProperty("baseline").GetDouble();
            score.ShouldBeGreaterThan(baseline + 0.1, $"{task.GetProperty("id")}: macro-F1 {score} vs majority {baseline}");
        }
    }

    [Fact]
    public void The_same_seed_gives_the_same_losses()
    {
        // Two tasks, so that 12 steps train both (with all six samples some would get no step).
        using var plugins = new TemporaryDirectory();
        plugins.CopyPlugin(Path.Combine(RepositoryPaths.SamplePlugins, "Spam"));
        plugins.CopyPlugin(Path.Combine(RepositoryPaths.SamplePlugins, "WordClass"));
        var first = Train(plugins.Path, "--steps", "12", "--out", _run.Combine("a"));
        var second = Train(plugins.Path, "--steps", "12", "--out", _run.Combine("b"));
        var other = Train(plugins.Path, "--steps", "12", "--out", _run.Combine("c"), "--seed", "7");

        Losses(first).ShouldBe(Losses(second));
        Losses(first).ShouldNotBe(Losses(other));
    }

    [Fact]
    public void The_checkpoint_names_each_plugin_with_the_SHA_256_of_its_DLL()
    {
        var run = Train(RepositoryPaths.SamplePlugins, "--steps", "4");

        run.ExitCode.ShouldBe(0, run.Error);
        var checkpoint = run.Json.GetProperty("checkpoint").GetString()!;
        File.Exists(Path.Combine(checkpoint, "encoder.bin")).ShouldBeTrue();
        var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(checkpoint, "manifest.json"))).RootElement;
        manifest.GetProperty("encoder").GetProperty("name").GetString().ShouldBe("tiny");
        foreach (var task in manifest.GetProperty("tasks").EnumerateArray())
        {
            var plugin = task.GetProperty("plugin").GetString()!;
            var dll = Path.Combine(RepositoryPaths.SamplePlugins, plugin, task.GetProperty("pluginAssembly").GetString()!);
            task.GetProperty("pluginSha256").GetString().ShouldBe(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(dll))));
            File.Exists(Path.Combine(checkpoint, task.GetProperty("headFile").GetString()!)).ShouldBeTrue();
        }
        File.Exists(Path.Combine(_run.Path, "summary.json")).ShouldBeTrue();
    }

    [Fact]
    public void A_task_whose_loss_turns_NaN_is_quarantined_and_the_others_train_on()
    {
        using var plugins = new TemporaryDirectory();
        plugins.CopyPlugin(Path.Combine(RepositoryPaths.SamplePlugins, "Spam"));
        plugins.CopyPlugin(Path.Combine(RepositoryPaths.TestPlugins, "NanLoss"));

        var run = Train(plugins.Path, "--steps", "40");

        run.ExitCode.ShouldBe(0, run.Error);
        var tasks = run.Json.GetProperty("tasks").EnumerateArray().ToDictionary(t => t.GetProperty("id").GetString()!);
        tasks["nan-loss"].GetProperty("state").GetString().ShouldBe("Quarantined");
        tasks["nan-loss"].GetProperty("quarantineReason").GetString()!.ShouldContain("its loss was NaN for 3 steps in a row");
        tasks["spam"].GetProperty("state").GetString().ShouldBe("Training");
        tasks["spam"].GetProperty("validation").GetProperty("score").GetDouble().ShouldBeGreaterThan(0);
    }

    [Fact]
    public void A_malformed_data_line_is_skipped_and_the_task_still_trains()
    {
        using var plugins = new TemporaryDirectory();
        var spam = plugins.CopyPlugin(Path.Combine(RepositoryPaths.SamplePlugins, "Spam"));
        File.AppendAllLines(Path.Combine(spam, "data", "spam", "train.jsonl"), ["{\"text\": \"free money\", \"label\": \"maybe\"}"]);

        var run = Train(plugins.Path, "--steps", "4");

        run.ExitCode.ShouldBe(0, run.Error);
        run.Json.GetProperty("tasks").EnumerateArray().ShouldHaveSingleItem().GetProperty("steps").GetInt32().ShouldBe(4);
    }

    [Fact]
    public void A_task_with_too_many_bad_lines_is_refused_with_file_and_line_and_the_others_train()
    {
        using var plugins = new TemporaryDirectory();
        var spam = plugins.CopyPlugin(Path.Combine(RepositoryPaths.SamplePlugins, "Spam"));
        plugins.CopyPlugin(Path.Combine(RepositoryPaths.SamplePlugins, "WordClass"));
        var train = Path.Combine(spam, "data", "spam", "train.jsonl");
        File.WriteAllLines(train, Enumerable.Repeat("{\"text\": \"free money\"}", 20).Concat(File.ReadLines(train)).ToList());

        var run = Train(plugins.Path, "--steps", "4");

        run.ExitCode.ShouldBe(0, run.Error);
        run.Json.GetProperty("tasks").EnumerateArray().ShouldHaveSingleItem().GetProperty("id").GetString().ShouldBe("wordclass");
        var refusal = run.Json.GetProperty("refused").EnumerateArray().ShouldHaveSingleItem();
        refusal.GetProperty("task").GetString().ShouldBe("spam");
        refusal.GetProperty("reason").GetString()!.ShouldContain("train.jsonl:1: missing field \"label\"");
    }

    [Fact]
    public void Without_json_a_table_names_every_task_and_its_scores()
    {
        var output = new StringWriter();
        var code = MtlHostApplication.Run(["train", "--encoder", "tiny", "--steps", "4", "--plugins", RepositoryPaths.SamplePlugins, "--out", _run.Path],
            output, new StringWriter());

        code.ShouldBe(0);
        var text = output.ToString();
        text.ShouldContain("macro_f1");
        text.ShouldContain("spam");
        text.ShouldContain("wordclass");
        text.ShouldContain("checkpoint: ");
    }

    private HostRun Train(string plugins, params string[] extra)
    {
        string[] args = ["train", "--encoder", "tiny", "--plugins", plugins, "--json", .. extra];
        if (!extra.Contains("--out"))
        {
            args = [.. args, "--out", _run.Path];
        }
        return HostRun.Of(args);
    }

    private static List<double> Losses(HostRun run) =>
        run.Json.GetProperty("tasks").EnumerateArray().Select(t => t.GetProperty("trainLoss").GetDouble())
            .Concat(run.Json.GetProperty("tasks").EnumerateArray().Select(t => t.GetProperty("validation").GetProperty("loss").GetDouble()))
            .ToList();
}
