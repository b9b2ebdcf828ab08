using System.Diagnostics;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using MtlHost.Hosting;
using MtlHost.HotReload;
using MtlHost.Tests.Infrastructure;
using Shouldly;
using Xunit;
using Variant = MtlHost.Tests.Infrastructure.PluginCompiler.Variant;

namespace MtlHost.Tests.HotReload;

/// <summary>
/// Hot reload prepares a changed plugin (load, data) on a thread of its own while the trainer steps, and only swaps it in at
/// a step boundary (<see cref="HotReloadOptions.PrepareInBackground"/>). These compare it with preparing at the boundary.
/// </summary>
public sealed class BackgroundPreparationTests : IDisposable
{
    private readonly List<TemporaryDirectory> _folders = [];

    public void Dispose()
    {
        foreach (var folder in _folders)
        {
            folder.Dispose();
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_step_boundary_waits_for_a_2_s_dataset_adapter_only_when_preparation_is_not_in_the_background(bool background)
    {
        var plugins = Folder();
        PluginCompiler.Build(plugins.Path, "Alpha", new Variant("alpha"));
        using var run = new HotReloadHarness(plugins, Options(background));
        run.Steps(2);

        PluginCompiler.Build(plugins.Path, "Slow", new Variant("slow", DataDelayMilliseconds: 2000));
        var longest = TimeSpan.Zero;
        var clock = Stopwatch.StartNew();
        while (!run.Trainer.Tasks.Any(t => t.Id == "slow") && clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            var boundary = Stopwatch.StartNew();
            run.Coordinator.ApplyPendingChanges();
            longest = boundary.Elapsed > longest ? boundary.Elapsed : longest;
            run.Trainer.RunStep();
        }

        run.Trainer.Tasks.Select(t => t.Id).ShouldBe(["alpha", "slow"]);
        run.Events(PluginEventKind.Added).Select(e => e.Plugin).ShouldBe(["Alpha", "Slow"]);
        if (background)
        {
            // The adapter ran while steps went on; the boundary only built the head and swapped it in.
            longest.ShouldBeLessThan(TimeSpan.FromSeconds(1));
        }
        else
        {
            longest.ShouldBeGreaterThanOrEqualTo(TimeSpan.FromSeconds(2));
        }
    }

    [Fact]
    public void A_hot_add_prepared_while_steps_run_trains_exactly_as_one_prepared_at_the_boundary()
    {
        var beta = PluginCompiler.Compile("Beta", new Variant("beta", HiddenLayer: true));

        var atBoundary = LossesWithAddAtStep(background: false, beta);
        var inBackground = LossesWithAddAtStep(background: true, beta);

        inBackground.Count.ShouldBe(atBoundary.Count);
        inBackground.ShouldContain(l => l.StartsWith("beta", StringComparison.Ordinal));
        inBackground.ShouldBe(atBoundary);
    }

    [Fact]
    public void Adds_replaces_quarantines_and_removes_report_the_same_events_and_standings_as_when_prepared_at_the_boundary()
    {
        var atBoundary = EventsOfScenario(background: false);
        var inBackground = EventsOfScenario(background: true);

        inBackground.Events.ShouldBe(atBoundary.Events);
        inBackground.Standings.ShouldBe(atBoundary.Standings);
        inBackground.Events.Count(e => e.StartsWith("Quarantined", StringComparison.Ordinal)).ShouldBe(3);
    }

    [Fact]
    public void A_change_seen_while_another_is_being_prepared_is_applied_after_it()
    {
        var plugins = Folder();
        PluginCompiler.Build(plugins.Path, "Alpha", new Variant("alpha"));
        using var run = new HotReloadHarness(plugins, Options(background: true));

        PluginCompiler.Build(plugins.Path, "Slow", new Variant("slow", DataDelayMilliseconds: 1500));
        // Reported (debounce 100 ms) and being prepared before the next plugin appears.
        Thread.Sleep(600);
        PluginCompiler.Build(plugins.Path, "Beta", new Variant("beta"));
        Directory.Delete(plugins.Combine("Alpha"), recursive: true);
        var clock = Stopwatch.StartNew();
        while ((run.Trainer.Tasks.Any(t => t.Id == "alpha") || !run.Trainer.Tasks.Any(t => t.Id == "beta")) && clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            run.Steps(1);
        }

        // Beta and Alpha's removal may be seen in one scan, in either order; both come after Slow, seen first.
        var events = run.Coordinator.Status.Events.Where(e => e.Kind is PluginEventKind.Added or PluginEventKind.Removed)
            .Select(e => $"{e.Kind} {e.Plugin}").ToList();
        events.ShouldBe(["Added Alpha", "Added Slow", "Added Beta", "Removed Alpha"], ignoreOrder: true);
        events.IndexOf("Added Slow").ShouldBeLessThan(events.IndexOf("Added Beta"));
        events.IndexOf("Added Slow").ShouldBeLessThan(events.IndexOf("Removed Alpha"));
        run.Trainer.Tasks.Select(t => t.Id).ShouldBe(["slow", "beta"], ignoreOrder: true);
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData("false", false)]
    [InlineData("True", true)]
    public void HotReload_PrepareInBackground_is_on_unless_set_to_false(string? value, bool expected)
    {
        var settings = new Dictionary<string, string?> { ["Plugins:Directory"] = Path.GetTempPath() };
        if (value is not null)
        {
            settings["HotReload:PrepareInBackground"] = value;
        }
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();

        HostSettings.Read(configuration).HotReload.PrepareInBackground.ShouldBe(expected);
    }

    // Alpha trains 6 steps while Beta is copied in (and, in the background, prepared); Beta joins at step 6; 8 more steps.
    private List<string> LossesWithAddAtStep(bool background, byte[] beta)
    {
        var plugins = Folder();
        PluginCompiler.Build(plugins.Path, "Alpha", new Variant("alpha"));
        using var run = new HotReloadHarness(plugins, Options(background));
        var losses = new List<string>();
        run.Trainer.StepCompleted += record => losses.AddRange(record.Tasks.Select(t => $"{t.TaskId} {record.Step} {t.Loss:R}"));

        Directory.CreateDirectory(plugins.Combine("Beta"));
        File.WriteAllBytes(plugins.Combine("Beta", "Beta.dll"), beta);
        for (var i = 0; i < 6; i++)
        {
            // Slow enough that the watcher reports Beta and (in the background) its preparation runs during these steps.
            Thread.Sleep(40);
            run.Trainer.RunStep();
        }
        run.ApplyChange();
        run.Trainer.Step.ShouldBe(6);
        run.Steps(8);
        return losses;
    }

    // The same plugin history in either mode; every event but the unload proofs (whose timing is the collector's), with
    // the plugins folder's path taken out of the messages.
    private (List<string> Events, List<string> Standings) EventsOfScenario(bool background)
    {
        var plugins = Folder();
        PluginCompiler.Build(plugins.Path, "Alpha", new Variant("alpha"));
        PluginCompiler.Build(plugins.Path, "Beta", new Variant("beta"));
        using var run = new HotReloadHarness(plugins, Options(background));
        run.Steps(3);

        void Change(Action change)
        {
            change();
            run.ApplyChange();
            run.Steps(4);
        }

        Change(() => PluginCompiler.Build(plugins.Path, "Beta", new Variant("beta", "2.0.0.0", HeadThrows: true)));
        Change(() => PluginCompiler.Build(plugins.Path, "Beta", new Variant("beta", "3.0.0.0", HiddenLayer: true)));
        Change(() => PluginCompiler.Build(plugins.Path, "Gamma", new Variant("gamma", DataThrowsWithCause: true)));
        Change(() => PluginCompiler.Build(plugins.Path, "Clash", new Variant("alpha")));
        Change(() => PluginCompiler.Build(plugins.Path, "Delta", new Variant("delta", HiddenLayer: true)));
        Change(() => Directory.Delete(plugins.Combine("Alpha"), recursive: true));
        run.Coordinator.WaitForUnloads(TimeSpan.FromSeconds(20)).ShouldBeTrue();

        var events = run.Coordinator.Status.Events
            .Where(e => e.Kind is not (PluginEventKind.Unloaded or PluginEventKind.UnloadFailed or PluginEventKind.UnloadedLate))
            // Each run compiles its own DLLs, whose hashes differ (a compilation has a new MVID).
            .Select(e => $"{e.Kind} step {e.Step} {e.Plugin} {e.TaskId} {WithoutHash(e.OldVersion)} -> {WithoutHash(e.NewVersion)}: " +
                         $"{e.Message.Replace(plugins.Path, "<plugins>", StringComparison.Ordinal)} " +
                         $"kept [{string.Join(",", e.Kept ?? [])}] reset [{string.Join(",", e.Reset ?? [])}]")
            .ToList();
        var standings = run.Coordinator.Status.Plugins
            .Select(p => $"{p.Name} {p.State} {p.Version} [{string.Join(",", p.Tasks)}] {p.Reason?.Replace(plugins.Path, "<plugins>", StringComparison.Ordinal)}")
            .Order(StringComparer.Ordinal)
            .ToList();
        standings.Add($"unloaded {run.Events(PluginEventKind.Unloaded).Count}, failed {run.Coordinator.Status.FailedUnloads}, live {run.Coordinator.Status.LiveContexts}");
        return (events, standings);
    }

    private static string? WithoutHash(string? version) => version is null ? null : Regex.Replace(version, @" \([0-9a-f]{8}\)$", "");

    private static HotReloadOptions Options(bool background) => new()
    {
        Debounce = TimeSpan.FromMilliseconds(100),
        PollInterval = TimeSpan.FromMilliseconds(500),
        UnloadTimeout = TimeSpan.FromSeconds(10),
        ProbationSteps = 3,
        PrepareInBackground = background,
    };

    private TemporaryDirectory Folder()
    {
        var folder = new TemporaryDirectory();
        _folders.Add(folder);
        return folder;
    }
}
