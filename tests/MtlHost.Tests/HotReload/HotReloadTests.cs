using System.Runtime.CompilerServices;
using System.Runtime.Loader;
using System.Text.Json;
using MtlHost.Core.Checkpoints;
using MtlHost.Core.Training;
using MtlHost.HotReload;
using MtlHost.Tests.Infrastructure;
using Shouldly;
using Xunit;
using static TorchSharp.torch;
using Variant = MtlHost.Tests.Infrastructure.PluginCompiler.Variant;

namespace MtlHost.Tests.HotReload;

/// <summary>
/// Hot reload with real plugin DLLs, compiled in the test and dropped into a watched folder while a
/// run trains: add, replace, remove, quarantine, and proof that every old load context is collected.
/// </summary>
public sealed class HotReloadTests : IDisposable
{
    private readonly TemporaryDirectory _plugins = new();

    public void Dispose() => _plugins.Dispose();

    [Fact]
    public void A_plugin_dropped_into_the_folder_joins_the_run_trains_and_is_evaluated()
    {
        PluginCompiler.Build(_plugins.Path, "Alpha", new Variant("alpha"));
        using var run = new HotReloadHarness(_plugins);
        run.Steps(5);

        PluginCompiler.Build(_plugins.Path, "Beta", new Variant("beta"));
        run.ApplyChange();
        run.TrainUntil("beta", 3);

        run.Trainer.Tasks.Select(t => t.Id).ShouldBe(["alpha", "beta"]);
        run.Task("beta").StepsTrained.ShouldBeGreaterThanOrEqualTo(3);
        run.Trainer.Evaluate().Select(s => s.TaskId).ShouldBe(["alpha", "beta"]);
        run.Events(PluginEventKind.Added).Select(e => (e.Plugin, e.Step)).ShouldBe([("Alpha", 0), ("Beta", 5)]);
        run.Coordinator.Status.Of("Beta")!.State.ShouldBe(PluginRunState.Training);
        // The loaded DLL is the shadow copy, so the original may be overwritten or deleted.
        run.Task("beta").Source.PluginDirectory.ShouldStartWith(run.Coordinator.ShadowDirectory);
        AssemblyLoadContext.GetLoadContext(run.Task("beta").Task.GetType().Assembly)!.IsCollectible.ShouldBeTrue();
    }

    [Fact]
    public void A_replaced_head_with_one_more_layer_keeps_the_matching_tensors_and_their_values_and_resets_the_new_ones()
    {
        PluginCompiler.Build(_plugins.Path, "Alpha", new Variant("alpha"));
        PluginCompiler.Build(_plugins.Path, "Beta", new Variant("beta"));
        using var run = new HotReloadHarness(_plugins);
        run.TrainUntil("beta", 5);
        using var classifierBefore = HeadTensor(run, "beta", "classifier.weight");
        using var alphaBefore = HeadTensor(run, "alpha", "classifier.weight");
        using var encoderBefore = run.Encoder.parameters().First().clone();
        var stepsBeforeReplace = StepsOf(run, "beta");

        PluginCompiler.Build(_plugins.Path, "Beta", new Variant("beta", "2.0.0.0", HiddenLayer: true));
        run.ApplyChange();
        // The task's step count goes on with its new version, as its curves do.
        StepsOf(run, "beta").ShouldBe(stepsBeforeReplace);

        var replaced = run.Events(PluginEventKind.Replaced).ShouldHaveSingleItem();
        replaced.TaskId.ShouldBe("beta");
        replaced.OldVersion.ShouldStartWith("1.0.0.0");
        replaced.NewVersion.ShouldStartWith("2.0.0.0");
        replaced.Kept!.ShouldBe(["classifier.weight", "classifier.bias"], ignoreOrder: true);
        replaced.Reset!.ShouldBe(["hidden_layer.weight", "hidden_layer.bias"], ignoreOrder: true);
        VersionOf(run, "beta").ShouldBe("2.0.0.0");
        Same(run, "beta", "classifier.weight", classifierBefore).ShouldBeTrue("the kept tensor must keep its trained values");
        Same(run, "alpha", "classifier.weight", alphaBefore).ShouldBeTrue("other tasks are untouched");
        run.Encoder.parameters().First().allclose(encoderBefore, 0, 0).ShouldBeTrue("the encoder is untouched");

        var stepsBefore = StepsOf(run, "beta");
        run.TrainUntil("beta", stepsBefore + 5);
        StepsOf(run, "beta").ShouldBeGreaterThan(stepsBefore);
        StateOf(run, "beta").ShouldBe(TaskState.Training);
        ShouldCollectEveryOldContext(run, expectedUnloads: 1);
    }

    [Fact]
    public void A_replacement_whose_head_throws_is_quarantined_and_the_last_good_version_keeps_training_until_fixed()
    {
        PluginCompiler.Build(_plugins.Path, "Alpha", new Variant("alpha"));
        PluginCompiler.Build(_plugins.Path, "Beta", new Variant("beta"));
        using var run = new HotReloadHarness(_plugins);
        run.Steps(5);
        var alpha = IdentityOf(run, "alpha");

        PluginCompiler.Build(_plugins.Path, "Alpha", new Variant("alpha", "3.0.0.0", HeadThrows: true));
        run.ApplyChange();

        var status = run.Coordinator.Status.Of("Alpha")!;
        status.State.ShouldBe(PluginRunState.TrainingLastGood);
        status.Version.ShouldBe("1.0.0.0");
        status.Reason.ShouldNotBeNull().ShouldContain("head of alpha 3.0.0.0 is broken");
        run.Events(PluginEventKind.Quarantined).ShouldHaveSingleItem().Message.ShouldContain("last good version 1.0.0.0 keeps training");
        IdentityOf(run, "alpha").ShouldBe(alpha);
        var stepsBefore = StepsOf(run, "alpha");
        run.TrainUntil("alpha", stepsBefore + 3);
        StepsOf(run, "alpha").ShouldBeGreaterThan(stepsBefore);
        StateOf(run, "alpha").ShouldBe(TaskState.Training);

        // Fixing the DLL on disk brings the new version in.
        PluginCompiler.Build(_plugins.Path, "Alpha", new Variant("alpha", "4.0.0.0"));
        run.ApplyChange();
        run.Coordinator.Status.Of("Alpha")!.State.ShouldBe(PluginRunState.Training);
        VersionOf(run, "alpha").ShouldBe("4.0.0.0");
        run.TrainUntil("alpha", StepsOf(run, "alpha") + 3); // the count goes on across a replace
        // The refused version 3 and the replaced version 1 are both collected.
        ShouldCollectEveryOldContext(run, expectedUnloads: 2);
    }

    [Fact]
    public void A_replacement_whose_loss_turns_NaN_in_training_is_quarantined_and_the_last_good_version_takes_over_again()
    {
        PluginCompiler.Build(_plugins.Path, "Alpha", new Variant("alpha"));
        PluginCompiler.Build(_plugins.Path, "Beta", new Variant("beta"));
        using var run = new HotReloadHarness(_plugins);
        run.Steps(5);
        var lastGood = IdentityOf(run, "beta");

        PluginCompiler.Build(_plugins.Path, "Beta", new Variant("beta", "5.0.0.0", NanWhenTraining: true));
        run.ApplyChange();
        VersionOf(run, "beta").ShouldBe("5.0.0.0");
        for (var i = 0; i < 300 && run.Coordinator.Status.Of("Beta")!.State == PluginRunState.Training; i++)
        {
            run.Steps(1);
        }

        run.Coordinator.Status.Of("Beta")!.State.ShouldBe(PluginRunState.TrainingLastGood);
        run.Events(PluginEventKind.Restored).ShouldHaveSingleItem();
        run.Events(PluginEventKind.Quarantined).ShouldHaveSingleItem().Message.ShouldContain("its loss was NaN");
        IdentityOf(run, "beta").ShouldBe(lastGood);
        var before = StepsOf(run, "beta");
        run.TrainUntil("beta", before + 3);
        StepsOf(run, "beta").ShouldBeGreaterThan(before);
        StateOf(run, "beta").ShouldBe(TaskState.Training);
        ShouldCollectEveryOldContext(run, expectedUnloads: 1);
    }

    [Fact]
    public void A_deleted_plugin_has_its_head_in_the_checkpoint_and_re_adding_it_restores_the_head()
    {
        PluginCompiler.Build(_plugins.Path, "Alpha", new Variant("alpha"));
        var betaDll = PluginCompiler.Build(_plugins.Path, "Beta", new Variant("beta"));
        using var run = new HotReloadHarness(_plugins);
        run.TrainUntil("beta", 4);
        using var trained = HeadTensor(run, "beta", "classifier.weight");

        Directory.Delete(_plugins.Combine("Beta"), recursive: true);
        run.ApplyChange();

        run.Trainer.Tasks.Select(t => t.Id).ShouldBe(["alpha"]);
        run.Coordinator.Status.Of("Beta")!.State.ShouldBe(PluginRunState.Removed);
        run.Events(PluginEventKind.Removed).ShouldHaveSingleItem().TaskId.ShouldBe("beta");
        run.Steps(3);
        ShouldCollectEveryOldContext(run, expectedUnloads: 1);

        using var checkpoint = new TemporaryDirectory();
        CheckpointWriter.Write(checkpoint.Combine("ckpt"), new CheckpointContent("tiny", run.Encoder, run.Trainer.Tasks, run.Trainer.Step, new TrainingOptions())
        {
            RemovedHeads = run.Coordinator.Archive.Heads,
        });
        var manifest = JsonDocument.Parse(File.ReadAllText(checkpoint.Combine("ckpt", "manifest.json"))).RootElement;
        var entry = manifest.GetProperty("tasks").EnumerateArray().Single(t => t.GetProperty("id").GetString() == "beta");
        entry.GetProperty("state").GetString().ShouldBe("Removed");
        entry.GetProperty("plugin").GetString().ShouldBe("Beta");
        // The saved file is in TorchSharp's module format: a fresh head of the same plugin loads it.
        LoadsInto(run, "alpha", checkpoint.Combine("ckpt", entry.GetProperty("headFile").GetString()!), trained).ShouldBeTrue();

        Directory.CreateDirectory(_plugins.Combine("Beta"));
        File.WriteAllBytes(_plugins.Combine("Beta", "Beta.dll"), betaDll);
        run.ApplyChange();

        var readded = run.Events(PluginEventKind.Added).Last();
        readded.Plugin.ShouldBe("Beta");
        readded.Kept!.ShouldBe(["classifier.weight", "classifier.bias"], ignoreOrder: true);
        readded.Reset!.ShouldBeEmpty();
        Same(run, "beta", "classifier.weight", trained).ShouldBeTrue("re-adding restores the archived head");
        run.Coordinator.Archive.Heads.ShouldBeEmpty();
        run.Steps(3);
    }

    [Fact]
    public void A_data_adapter_that_hangs_past_the_timeout_is_quarantined_and_the_run_goes_on()
    {
        PluginCompiler.Build(_plugins.Path, "Alpha", new Variant("alpha"));
        using var run = new HotReloadHarness(_plugins, new HotReloadOptions
        {
            Debounce = TimeSpan.FromMilliseconds(100),
            DataTimeout = TimeSpan.FromMilliseconds(300),
            UnloadTimeout = TimeSpan.FromSeconds(10),
        });

        PluginCompiler.Build(_plugins.Path, "Slow", new Variant("slow", DataDelayMilliseconds: 3000));
        run.ApplyChange();

        var status = run.Coordinator.Status.Of("Slow")!;
        status.State.ShouldBe(PluginRunState.Quarantined);
        status.Reason.ShouldNotBeNull().ShouldContain("did not finish within 0.3 s");
        run.Trainer.Tasks.Select(t => t.Id).ShouldBe(["alpha"]);
        run.Steps(3);
    }

    [Fact]
    public void A_plugin_that_ships_its_own_TorchSharp_uses_the_hosts()
    {
        PluginCompiler.Build(_plugins.Path, "Alpha", new Variant("alpha"));
        File.Copy(typeof(TorchSharp.torch).Assembly.Location, _plugins.Combine("Alpha", "TorchSharp.dll"));

        using var run = new HotReloadHarness(_plugins);
        run.Steps(2);

        var head = run.Task("alpha").Head;
        AssemblyLoadContext.GetLoadContext(head.GetType().BaseType!.BaseType!.Assembly).ShouldBe(AssemblyLoadContext.Default);
        AssemblyLoadContext.GetLoadContext(head.GetType().Assembly)!.Assemblies.ShouldNotContain(a => a.GetName().Name == "TorchSharp");
    }

    [Fact]
    public void A_replaced_initial_version_is_collected_while_the_run_still_holds_the_tasks_it_started_with()
    {
        PluginCompiler.Build(_plugins.Path, "Alpha", new Variant("alpha", "1.0.0.0"));
        using var run = new HotReloadHarness(_plugins);
        run.Steps(2);

        PluginCompiler.Build(_plugins.Path, "Alpha", new Variant("alpha", "2.0.0.0"));
        run.ApplyChange();
        run.TrainUntil("alpha", StepsOf(run, "alpha") + 3); // the count goes on across a replace

        VersionOf(run, "alpha").ShouldBe("2.0.0.0");
        ShouldCollectEveryOldContext(run, 1);
        // The run's first list of tasks is still referenced here (train --watch keeps it for its whole run).
        run.InitialTasks.ShouldHaveSingleItem().Id.ShouldBe("alpha");
        Should.Throw<ObjectDisposedException>(() => run.InitialTasks[0].Task);
    }

    [Fact]
    public void A_context_collected_only_after_the_unload_wait_is_reported_as_failed_then_as_late_and_not_counted_as_a_leak()
    {
        PluginCompiler.Build(_plugins.Path, "Alpha", new Variant("alpha", "1.0.0.0"));
        using var run = new HotReloadHarness(_plugins, new HotReloadOptions
        {
            Debounce = TimeSpan.FromMilliseconds(100),
            PollInterval = TimeSpan.FromMilliseconds(500),
            UnloadTimeout = TimeSpan.FromSeconds(1),
            LateUnloadWatch = TimeSpan.FromSeconds(60),
            ProbationSteps = 1,
        });
        // Something outside the coordinator holds an object of version 1 past the unload wait, then lets go.
        var holder = HoldTaskObject(run, "alpha");
        PluginCompiler.Build(_plugins.Path, "Alpha", new Variant("alpha", "2.0.0.0"));
        run.ApplyChange();
        run.TrainUntil("alpha", StepsOf(run, "alpha") + 1); // the count goes on across a replace
        run.Coordinator.WaitForUnloads(TimeSpan.FromSeconds(20)).ShouldBeTrue();
        run.Events(PluginEventKind.UnloadFailed).ShouldHaveSingleItem().OldVersion.ShouldBe("1.0.0.0");
        run.Coordinator.Status.FailedUnloads.ShouldBe(1);

        holder.Value = null;
        for (var i = 0; i < 300 && run.Events(PluginEventKind.UnloadedLate).Count == 0; i++)
        {
            Thread.Sleep(100);
        }

        run.Events(PluginEventKind.UnloadedLate).ShouldHaveSingleItem().OldVersion.ShouldBe("1.0.0.0");
        run.Coordinator.Status.FailedUnloads.ShouldBe(0);
        run.Coordinator.Status.LateUnloads.ShouldBe(1);
        run.Coordinator.Status.LiveContexts.ShouldBe(1);
    }

    [Fact]
    public void Fifty_replace_cycles_leave_one_live_context_and_bounded_memory()
    {
        var versions = new[]
        {
            PluginCompiler.Compile("Alpha", new Variant("alpha", "1.0.0.0")),
            PluginCompiler.Compile("Alpha", new Variant("alpha", "2.0.0.0", HiddenLayer: true)),
        };
        Directory.CreateDirectory(_plugins.Combine("Alpha"));
        File.WriteAllBytes(_plugins.Combine("Alpha", "Alpha.dll"), versions[0]);
        using var run = new HotReloadHarness(_plugins, new HotReloadOptions
        {
            Debounce = TimeSpan.FromMilliseconds(30),
            UnloadTimeout = TimeSpan.FromSeconds(10),
            ProbationSteps = 1,
        });
        long managedAt10 = 0;
        double residentAt10 = 0;
        for (var cycle = 1; cycle <= 50; cycle++)
        {
            File.WriteAllBytes(_plugins.Combine("Alpha", "Alpha.dll"), versions[cycle % 2]);
            run.ApplyChange();
            run.Steps(2);
            if (cycle == 10)
            {
                run.Coordinator.WaitForUnloads(TimeSpan.FromSeconds(20)).ShouldBeTrue();
                managedAt10 = GC.GetTotalMemory(forceFullCollection: true);
                residentAt10 = ResidentMiB();
            }
        }
        run.Coordinator.WaitForUnloads(TimeSpan.FromSeconds(20)).ShouldBeTrue();

        run.Events(PluginEventKind.Replaced).Count.ShouldBe(50);
        run.Events(PluginEventKind.UnloadFailed).ShouldBeEmpty();
        run.Events(PluginEventKind.Unloaded).Count.ShouldBe(50);
        run.Coordinator.Status.LiveContexts.ShouldBe(1);
        var managed = GC.GetTotalMemory(forceFullCollection: true);
        var resident = ResidentMiB();
        (managed - managedAt10).ShouldBeLessThan(20L << 20, $"managed heap {managedAt10 >> 20} MiB after 10 cycles, {managed >> 20} MiB after 50");
        resident.ShouldBeLessThan(residentAt10 * 1.25 + 50, $"RSS {residentAt10:F0} MiB after 10 cycles, {resident:F0} MiB after 50");
        Directory.GetDirectories(run.Coordinator.ShadowDirectory).Length.ShouldBe(1, "shadow copies of collected versions are deleted");
    }

    [Fact]
    public void Train_with_watch_runs_its_steps_and_reports_hot_reload_in_the_summary()
    {
        _plugins.CopyPlugin(Path.Combine(RepositoryPaths.SamplePlugins, "Spam"));
        using var output = new TemporaryDirectory();

        var run = HostRun.Of("train", "--watch", "--plugins", _plugins.Path, "--encoder", "tiny", "--steps", "12", "--max-length", "32",
            "--out", output.Path, "--json");

        run.ExitCode.ShouldBe(0, run.Error);
        var hotReload = run.Json.GetProperty("hotReload");
        hotReload.GetProperty("plugins").EnumerateArray().ShouldHaveSingleItem().GetProperty("state").GetString().ShouldBe("Training");
        hotReload.GetProperty("events").EnumerateArray().ShouldHaveSingleItem().GetProperty("kind").GetString().ShouldBe("Added");
        hotReload.GetProperty("liveContexts").GetInt32().ShouldBe(1);
        run.Json.GetProperty("tasks").EnumerateArray().ShouldHaveSingleItem().GetProperty("steps").GetInt32().ShouldBe(12);
    }

    private static void ShouldCollectEveryOldContext(HotReloadHarness run, int expectedUnloads)
    {
        run.Coordinator.WaitForUnloads(TimeSpan.FromSeconds(20)).ShouldBeTrue();
        run.Events(PluginEventKind.UnloadFailed).ShouldBeEmpty();
        run.Events(PluginEventKind.Unloaded).Count.ShouldBe(expectedUnloads);
        run.Coordinator.Status.LiveContexts.ShouldBe(run.Coordinator.Status.Plugins.Count(p => p.State is PluginRunState.Training or PluginRunState.TrainingLastGood));
    }

    // Whatever touches a plugin's objects runs in its own frame, so that no local of a test method keeps
    // an old version alive while the test checks that it was collected.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Tensor HeadTensor(HotReloadHarness run, string task, string name) => run.Task(task).Head.state_dict()[name].clone();

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool Same(HotReloadHarness run, string task, string name, Tensor expected) =>
        run.Task(task).Head.state_dict()[name].allclose(expected, 0, 0);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static string VersionOf(HotReloadHarness run, string task) => run.Task(task).Descriptor.Version.ToString();

    // The object goes straight into the box: no local or temporary of the test method (kept alive in Debug code) holds it.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static StrongBox<object?> HoldTaskObject(HotReloadHarness run, string task) => new(run.Task(task).Task);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int StepsOf(HotReloadHarness run, string task) => run.Task(task).StepsTrained;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static TaskState StateOf(HotReloadHarness run, string task) => run.Task(task).State;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int IdentityOf(HotReloadHarness run, string task) => RuntimeHelpers.GetHashCode(run.Task(task));

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool LoadsInto(HotReloadHarness run, string pluginTask, string file, Tensor expected)
    {
        using var fresh = run.Task(pluginTask).Task.CreateHead(new Abstractions.HeadOptions(64, 0.1));
        fresh.load(file);
        return fresh.state_dict()["classifier.weight"].allclose(expected, 0, 0);
    }

    private static double ResidentMiB()
    {
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0;
    }
}
