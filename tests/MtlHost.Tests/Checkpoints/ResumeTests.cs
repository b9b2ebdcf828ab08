using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MtlHost.Runs;
using MtlHost.Core.Training;
using MtlHost.Hosting;
using MtlHost.Core.Checkpoints;
using MtlHost.Core.Data;
using MtlHost.Tests.Infrastructure;
using Shouldly;
using Xunit;

namespace MtlHost.Tests.Checkpoints;

/// <summary>
/// Checkpoint and resume through the real <c>train</c> command: two sample plugins (Spam, WordClass), the tiny
/// encoder, a fixed seed. A run that crashes and restarts with the same --out must continue exactly where
/// an uninterrupted run would be.
/// </summary>
public sealed class ResumeTests : IDisposable
{
    private readonly TemporaryDirectory _plugins = new();
    private readonly TemporaryDirectory _runs = new();

    public ResumeTests()
    {
        _plugins.CopyPlugin(Path.Combine(RepositoryPaths.SamplePlugins, "Spam"));
        _plugins.CopyPlugin(Path.Combine(RepositoryPaths.SamplePlugins, "WordClass"));
    }

    public void Dispose()
    {
        _plugins.Dispose();
        _runs.Dispose();
    }

    [Theory]
    [InlineData("ew", "hard")]
    [InlineData("uw", "top-layers")]
    [InlineData("dwa", "adapters")]
    public void A_run_that_crashes_and_restarts_continues_the_loss_curve_of_an_uninterrupted_run(string weighting, string sharing)
    {
        // 8 steps, a checkpoint every 3, an evaluation every 2 (model selection state travels too). The crash comes
        // before step 6, so the steps 4-5 since the checkpoint of step 3 are lost and run again.
        string[] options = ["--steps", "8", "--checkpoint-every", "3", "--eval-every", "2", "--weighting", weighting, "--sharing", sharing];
        var uninterrupted = TrainRun.Of(null, Args(_runs.Combine("a"), options));
        uninterrupted.ExitCode.ShouldBe(0);

        var crashed = TrainRun.Of(6, Args(_runs.Combine("b"), options));
        crashed.ExitCode.ShouldBeNull();
        crashed.Steps.ShouldBe([1, 2, 3, 4, 5]);
        var resumed = TrainRun.Of(null, Args(_runs.Combine("b"), options));
        resumed.ExitCode.ShouldBe(0);

        resumed.Steps.ShouldBe([4, 5, 6, 7, 8]);
        var expected = uninterrupted.Losses.Where(l => int.Parse(l.Key[..4]) > 3).ToList();
        resumed.Losses.Keys.ShouldBe(expected.Select(l => l.Key));
        foreach (var (key, loss) in expected)
        {
            resumed.Losses[key].ShouldBe(loss, 1e-6, $"{weighting}/{sharing} loss at {key}");
        }
        // The summaries agree too: the same per-task counters, the same best evaluation.
        var a = Summary("a");
        var b = Summary("b");
        b.GetProperty("best").GetProperty("step").GetInt32().ShouldBe(a.GetProperty("best").GetProperty("step").GetInt32());
        foreach (var (taskA, taskB) in a.GetProperty("tasks").EnumerateArray().Zip(b.GetProperty("tasks").EnumerateArray()))
        {
            taskB.GetProperty("steps").GetInt32().ShouldBe(taskA.GetProperty("steps").GetInt32());
            taskB.GetProperty("validation").GetProperty("loss").GetDouble().ShouldBe(taskA.GetProperty("validation").GetProperty("loss").GetDouble(), 1e-6);
        }
    }

    [Fact]
    public void With_every_sample_plugin_a_restart_continues_exactly_even_for_heads_not_trained_right_after_it()
    {
        // Six tasks of every kind, one sampled per step: most heads sit out the first steps after the restart, and
        // AdamW still moves a head that has had a gradient (momentum, weight decay) in steps that do not train it.
        // The restart must do the same. This caught resumed heads that AdamW skipped until their task came up again.
        string[] Args(string run) =>
        [
            "--encoder", "tiny", "--plugins", RepositoryPaths.SamplePlugins, "--out", _runs.Combine(run), "--seed", "11", "--steps", "60",
            "--checkpoint-every", "20", "--json",
        ];
        var uninterrupted = TrainRun.Of(null, Args("a"));
        TrainRun.Of(45, Args("b")).ExitCode.ShouldBeNull();
        var resumed = TrainRun.Of(null, Args("b"));

        resumed.Steps.First().ShouldBe(41);
        var expected = uninterrupted.Losses.Where(l => int.Parse(l.Key[..4]) > 40).ToList();
        expected.Select(l => l.Key[5..]).Distinct().Count().ShouldBe(6);
        resumed.Losses.Keys.ShouldBe(expected.Select(l => l.Key));
        foreach (var (key, loss) in expected)
        {
            resumed.Losses[key].ShouldBe(loss, 1e-6, key);
        }
    }

    [Fact]
    public void With_length_windows_a_restart_continues_exactly_from_inside_a_window()
    {
        // Batches of 4 in windows of 3 batches: the checkpoints (every 5 steps) fall inside windows of both tasks,
        // and spam's short and long examples land in different batches, so a wrong position would change the losses.
        string[] options = ["--steps", "14", "--checkpoint-every", "5", "--length-window", "3"];
        var uninterrupted = TrainRun.Of(null, Args(_runs.Combine("a"), options));
        uninterrupted.ExitCode.ShouldBe(0);
        TrainRun.Of(12, Args(_runs.Combine("b"), options)).ExitCode.ShouldBeNull();
        var resumed = TrainRun.Of(null, Args(_runs.Combine("b"), options));

        resumed.Steps.ShouldBe([11, 12, 13, 14]);
        var expected = uninterrupted.Losses.Where(l => int.Parse(l.Key[..4]) > 10).ToList();
        resumed.Losses.Keys.ShouldBe(expected.Select(l => l.Key));
        foreach (var (key, loss) in expected)
        {
            resumed.Losses[key].ShouldBe(loss, 1e-6, key);
        }
        // Grouping changes the batches (here: the losses) against the plain shuffle of the same seed.
        var plain = TrainRun.Of(null, Args(_runs.Combine("c"), "--steps", "14"));
        plain.Losses.Values.ShouldNotBe(uninterrupted.Losses.Values);
    }

    [Fact]
    public void Resuming_with_another_length_window_starts_each_task_s_epoch_over_in_the_new_order()
    {
        // One task per step, batches of 4: two steps leave the tasks' positions adding up to 8 examples.
        TrainRun.Of(null, Args(_runs.Combine("w"), "--steps", "2")).ExitCode.ShouldBe(0);
        var before = LatestProgress("w");
        before.Values.ShouldAllBe(p => p.BatchOrder == LengthWindows.ShuffledOrder);
        before.Values.Sum(p => p.EpochPosition).ShouldBe(8);

        TrainRun.Of(null, Args(_runs.Combine("w"), "--steps", "4", "--length-window", "2")).ExitCode.ShouldBe(0);

        // The old positions meant other examples: the two new steps count from the start of the same epoch.
        var after = LatestProgress("w");
        after.Values.ShouldAllBe(p => p.BatchOrder == "length-window 2x4" && p.Epoch == 0);
        after.Values.Sum(p => p.EpochPosition).ShouldBe(8);
    }

    [Fact]
    public void Only_the_newest_checkpoints_are_kept_and_a_finished_run_only_evaluates_when_restarted()
    {
        var run = TrainRun.Of(null, Args(_runs.Combine("r"), "--steps", "5", "--checkpoint-every", "1", "--keep-checkpoints", "2"));

        run.ExitCode.ShouldBe(0);
        CheckpointFolders("r").ShouldBe(["step-000000004", "step-000000005"]);
        var again = TrainRun.Of(null, Args(_runs.Combine("r"), "--steps", "5", "--checkpoint-every", "1", "--keep-checkpoints", "2"));
        again.ExitCode.ShouldBe(0);
        again.Steps.ShouldBeEmpty();
        CheckpointFolders("r").ShouldBe(["step-000000004", "step-000000005"]);
        File.Exists(_runs.Combine("r", "summary.json")).ShouldBeTrue();
    }

    [Fact]
    public void A_torn_latest_checkpoint_and_a_leftover_staging_folder_are_skipped_and_the_previous_checkpoint_is_loaded()
    {
        string[] options = ["--steps", "6", "--checkpoint-every", "2"];
        TrainRun.Of(5, Args(_runs.Combine("t"), options)).ExitCode.ShouldBeNull();
        CheckpointFolders("t").ShouldBe(["step-000000002", "step-000000004"]);
        // A write a crash cut short never has the final name; simulate worse: a file of the newest checkpoint gone.
        File.Delete(_runs.Combine("t", CheckpointStore.FolderName, "step-000000004", "optimizer", "encoder.bin"));
        var staging = Directory.CreateDirectory(_runs.Combine("t", CheckpointStore.FolderName, ".step-000000006.tmp-99999")).FullName;
        File.WriteAllText(Path.Combine(staging, "encoder.bin"), "half");

        var resumed = TrainRun.Of(null, Args(_runs.Combine("t"), options));

        resumed.ExitCode.ShouldBe(0);
        resumed.Steps.ShouldBe([3, 4, 5, 6]);
        Directory.Exists(staging).ShouldBeFalse();
        foreach (var folder in CheckpointFolders("t"))
        {
            CheckpointStore.Verify(_runs.Combine("t", CheckpointStore.FolderName, folder), out _).ShouldBeNull(folder);
        }
    }

    [Theory]
    [InlineData("--seed", "7")]
    [InlineData("--weighting", "uw")]
    [InlineData("--sharing", "adapters")]
    public void Resuming_with_a_setting_that_must_match_exits_2_naming_it_and_the_fix(string option, string value)
    {
        TrainRun.Of(null, Args(_runs.Combine("s"), "--steps", "2")).ExitCode.ShouldBe(0);

        var run = HostRun.Of(["train", .. Args(_runs.Combine("s"), "--steps", "4", option, value)]);

        run.ExitCode.ShouldBe(2);
        run.Error.ShouldContain("cannot resume");
        run.Error.ShouldContain(option);
        run.Error.ShouldContain("a new --out");
    }

    [Fact]
    public void Resuming_with_another_step_budget_trains_on_with_a_warning_naming_both_budgets()
    {
        TrainRun.Of(null, Args(_runs.Combine("b"), "--steps", "2")).ExitCode.ShouldBe(0);
        var (directory, manifest) = CheckpointStore.FindLatest(_runs.Combine("b"), NullLogger.Instance).ShouldNotBeNull();
        var warnings = new List<string>();
        HostSettings With(int steps) => new(_plugins.Path, "tiny", "cpu", new TrainingOptions { Steps = steps }, _runs.Combine("b"));

        RunResume.WarnIfStepBudgetChanged(directory, manifest, With(2), new WarningLogger(warnings));
        warnings.ShouldBeEmpty();
        RunResume.WarnIfStepBudgetChanged(directory, manifest, With(4), new WarningLogger(warnings));
        warnings.ShouldHaveSingleItem().ShouldContain("trained with --steps 2, this run has --steps 4");
        var resumed = HostRun.Of(["train", .. Args(_runs.Combine("b"), "--steps", "4")]);
        resumed.ExitCode.ShouldBe(0);
    }

    [Fact]
    public void A_complete_checkpoint_whose_contents_are_corrupt_exits_2_naming_it_and_the_way_out()
    {
        TrainRun.Of(null, Args(_runs.Combine("c"), "--steps", "2")).ExitCode.ShouldBe(0);
        // Same length, other bytes: the manifest's file list cannot tell, reading the file must.
        var moments = _runs.Combine("c", CheckpointStore.FolderName, "step-000000002", "optimizer", "encoder.bin");
        File.WriteAllBytes(moments, new byte[new FileInfo(moments).Length]);

        var run = HostRun.Of(["train", .. Args(_runs.Combine("c"), "--steps", "4")]);

        run.ExitCode.ShouldBe(2);
        run.Error.ShouldContain("step-000000002");
        run.Error.ShouldContain("new --out");
    }

    [Theory]
    [InlineData("--keep-checkpoints", "0", "--keep-checkpoints must be at least 1")]
    [InlineData("--checkpoint-every", "x", "--checkpoint-every")]
    public void A_bad_checkpoint_option_exits_2_naming_it(string option, string value, string message)
    {
        var run = HostRun.Of(["train", .. Args(_runs.Combine("o"), option, value)]);

        run.ExitCode.ShouldBe(2);
        run.Error.ShouldContain(message);
        run.Error.ShouldNotContain("usage:");
    }

    [Fact]
    public void A_checkpointed_task_whose_plugin_is_gone_keeps_its_head_and_a_new_task_starts_fresh()
    {
        TrainRun.Of(null, Args(_runs.Combine("p"), "--steps", "3")).ExitCode.ShouldBe(0);
        Directory.Delete(_plugins.Combine("WordClass"), recursive: true);

        TrainRun.Of(null, Args(_runs.Combine("p"), "--steps", "5")).ExitCode.ShouldBe(0);

        using var manifest = JsonDocument.Parse(File.ReadAllText(_runs.Combine("p", CheckpointStore.FolderName, "step-000000005", "manifest.json")));
        var tasks = manifest.RootElement.GetProperty("tasks").EnumerateArray().ToDictionary(t => t.GetProperty("id").GetString()!);
        tasks["wordclass"].GetProperty("state").GetString().ShouldBe(CheckpointWriter.RemovedState);
        tasks["spam"].GetProperty("state").GetString().ShouldBe("Training");
        var progress = manifest.RootElement.GetProperty("training").GetProperty("tasks");
        progress.GetProperty("wordclass").GetProperty("stepsTrained").GetInt32().ShouldBeGreaterThan(0);
        // The removed head is the one trained before the restart, byte for byte.
        File.ReadAllBytes(_runs.Combine("p", CheckpointStore.FolderName, "step-000000005", "heads", "wordclass.bin"))
            .ShouldBe(File.ReadAllBytes(_runs.Combine("p", CheckpointStore.FolderName, "step-000000003", "heads", "wordclass.bin")));
    }

    private sealed class WarningLogger(List<string> warnings) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel == LogLevel.Warning)
            {
                warnings.Add(formatter(state, exception));
            }
        }
    }

    private string[] Args(string outDirectory, params string[] options) =>
        ["--encoder", "tiny", "--plugins", _plugins.Path, "--out", outDirectory, "--batch-size", "4", "--max-length", "32", "--json", .. options];

    private IReadOnlyDictionary<string, TaskProgress> LatestProgress(string run) =>
        CheckpointStore.FindLatest(_runs.Combine(run), NullLogger.Instance).ShouldNotBeNull().Manifest.Training.ShouldNotBeNull().Tasks;

    private List<string> CheckpointFolders(string run) =>
        Directory.GetDirectories(_runs.Combine(run, CheckpointStore.FolderName)).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList()!;

    private JsonElement Summary(string run) => JsonDocument.Parse(File.ReadAllText(_runs.Combine(run, "summary.json"))).RootElement;
}
