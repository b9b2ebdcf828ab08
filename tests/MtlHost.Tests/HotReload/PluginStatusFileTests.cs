using MtlHost.HotReload;
using MtlHost.Tests.Infrastructure;
using Shouldly;
using Xunit;
using Variant = MtlHost.Tests.Infrastructure.PluginCompiler.Variant;

namespace MtlHost.Tests.HotReload;

/// <summary>
/// A watched run keeps its plugin status in a file of its run folder, so that <c>mtlhost plugins list --run DIR</c>
/// shows, from another process, what the running trainer has loaded.
/// </summary>
public sealed class PluginStatusFileTests : IDisposable
{
    private readonly TemporaryDirectory _plugins = new();
    private readonly TemporaryDirectory _run = new();

    public void Dispose()
    {
        _plugins.Dispose();
        _run.Dispose();
    }

    [Fact]
    public void Train_watch_keeps_the_status_in_its_run_folder_for_plugins_list_run()
    {
        _plugins.CopyPlugin(Path.Combine(RepositoryPaths.SamplePlugins, "Spam"));

        var train = HostRun.Of("train", "--watch", "--encoder", "tiny", "--plugins", _plugins.Path, "--steps", "2", "--out", _run.Path, "--json");
        train.ExitCode.ShouldBe(0, train.Error);

        var list = HostRun.Of("plugins", "list", "--run", _run.Path);
        list.ExitCode.ShouldBe(0, list.Error);
        list.Output.ShouldContain("Spam");
        list.Output.ShouldContain("spam");
        PluginStatusFile.Read(_run.Path).Finished.ShouldBeTrue();
    }

    [Fact]
    public void A_watched_run_rewrites_its_status_file_on_every_plugin_event_and_marks_it_finished_at_the_end()
    {
        PluginCompiler.Build(_plugins.Path, "Alpha", new Variant("alpha"));
        var statusFile = _run.Combine(PluginStatusFile.FileName);
        using (var run = new HotReloadHarness(_plugins, Options(statusFile)))
        {
            var initial = PluginStatusFile.Read(_run.Path);
            initial.Finished.ShouldBeFalse();
            initial.ProcessId.ShouldBe(Environment.ProcessId);
            initial.Plugins.ShouldHaveSingleItem().State.ShouldBe(PluginRunState.Training);

            PluginCompiler.Build(_plugins.Path, "Beta", new Variant("beta"));
            run.ApplyChange();
            run.Steps(2);

            var status = PluginStatusFile.Read(_run.Path);
            status.Finished.ShouldBeFalse();
            status.Step.ShouldBe(0, "last written when Beta joined, before the two steps; steps alone do not rewrite it");
            status.Plugins.Select(p => (p.Name, p.State, p.Tasks.Single())).ShouldBe(
                [("Alpha", PluginRunState.Training, "alpha"), ("Beta", PluginRunState.Training, "beta")]);
            status.Events.Select(e => (e.Kind, e.Plugin)).ShouldBe([(PluginEventKind.Added, "Alpha"), (PluginEventKind.Added, "Beta")]);
            status.LiveContexts.ShouldBe(2);
            status.PluginsDirectory.ShouldBe(Path.GetFullPath(_plugins.Path));
        }

        var final = PluginStatusFile.Read(statusFile);
        final.Finished.ShouldBeTrue();
        // The versions still in the run at its end are not proven unloaded (the trainer holds them until it goes), so no
        // false leak is reported for them.
        final.Events.Select(e => e.Kind).ShouldBe([PluginEventKind.Added, PluginEventKind.Added]);
        final.FailedUnloads.ShouldBe(0);
        // Each write renames a finished temporary file over the status file: none is left behind.
        Directory.GetFiles(_run.Path).Select(Path.GetFileName).ShouldBe([PluginStatusFile.FileName]);
    }

    [Fact]
    public void Plugins_list_with_run_prints_the_status_a_watched_run_wrote()
    {
        PluginCompiler.Build(_plugins.Path, "Alpha", new Variant("alpha"));
        PluginCompiler.Build(_plugins.Path, "Beta", new Variant("beta", HeadThrows: true));
        using (new HotReloadHarness(_plugins, Options(_run.Combine(PluginStatusFile.FileName))))
        {
            var text = HostRun.Of("plugins", "list", "--run", _run.Path);

            text.ExitCode.ShouldBe(0, text.Error);
            text.Output.ShouldContain($"process {Environment.ProcessId}, training, step 0");
            text.Output.ShouldContain("live plugin load contexts: 1;");
            text.Output.ShouldContain("Alpha: Training 1.0.0.0 [alpha]");
            text.Output.ShouldContain("Beta: Quarantined");
            text.Output.ShouldContain("Added Alpha/alpha");

            var json = HostRun.Of("plugins", "list", "--run", _run.Path, "--json");
            json.ExitCode.ShouldBe(0, json.Error);
            json.Json.GetProperty("plugins").EnumerateArray().Select(p => p.GetProperty("state").GetString())
                .ShouldBe(["Training", "Quarantined"]);
            json.Json.GetProperty("finished").GetBoolean().ShouldBeFalse();
        }
    }

    [Fact]
    public void Plugins_list_with_a_run_folder_without_status_is_bad_usage_that_says_how_to_get_one()
    {
        var run = HostRun.Of("plugins", "list", "--run", _run.Path);

        run.ExitCode.ShouldBe(2);
        run.Error.ShouldContain(PluginStatusFile.FileName);
        run.Error.ShouldContain("train --watch --out");
        HostRun.Of("plugins", "check", "--run", _run.Path).ExitCode.ShouldBe(2);
    }

    private static HotReloadOptions Options(string statusFile) => new()
    {
        Debounce = TimeSpan.FromMilliseconds(100),
        PollInterval = TimeSpan.FromMilliseconds(500),
        ProbationSteps = 3,
        StatusFile = statusFile,
    };
}
