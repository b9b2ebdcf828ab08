using System.Text.Json;
using System.Text.RegularExpressions;
using MtlHost.HotReload;
using MtlHost.Tests.HotReload;
using MtlHost.Tests.Infrastructure;
using Shouldly;
using Xunit;
using Variant = MtlHost.Tests.Infrastructure.PluginCompiler.Variant;

namespace MtlHost.Tests.Plugins;

/// <summary>
/// What a plugin's author reads when the host refuses or quarantines the plugin: every inner exception, and the
/// paths of the author's own plugin folder (never the shadow copy hot reload loads).
/// </summary>
public sealed class ErrorMessageTests : IDisposable
{
    private const string CultureCause = "← CultureNotFoundException: xx-YY is an invalid culture identifier.";

    private readonly TemporaryDirectory _plugins = new();
    private readonly TemporaryDirectory _run = new();

    public void Dispose()
    {
        _plugins.Dispose();
        _run.Dispose();
    }

    [Fact]
    public void A_refusal_shows_the_inner_exception_in_the_log_and_in_plugins_list_json()
    {
        PluginCompiler.Build(_plugins.Path, "Cultured", new Variant("cultured", ConstructorTypeInitializerThrows: true));

        using var host = HostProcess.Start("plugins", "list", "--json", "--plugins", _plugins.Path, "--encoder", "tiny");
        var exitCode = host.WaitForExit();

        exitCode.ShouldBe(0, host.Error);
        var plugin = JsonDocument.Parse(host.Output).RootElement.GetProperty("plugins").EnumerateArray().ShouldHaveSingleItem();
        plugin.GetProperty("state").GetString().ShouldBe("refused");
        var reason = plugin.GetProperty("reason").GetString()!;
        reason.ShouldStartWith("the constructor of Reload.Cultured.ReloadTask threw TypeInitializationException: The type initializer for " +
                               "'Settings' threw an exception. " + CultureCause);
        host.Error.ShouldContain("Refused plugin Cultured: " + reason);
    }

    [Fact]
    public void The_run_summary_shows_the_inner_exception_of_a_refused_task_and_of_a_quarantined_one()
    {
        PluginCompiler.Build(_plugins.Path, "Alpha", new Variant("alpha"));
        PluginCompiler.Build(_plugins.Path, "Broken", new Variant("broken", DataThrowsWithCause: true));
        PluginCompiler.Build(_plugins.Path, "Faulty", new Variant("faulty", TrainingThrowsWithCause: true));

        var run = HostRun.Of("train", "--plugins", _plugins.Path, "--encoder", "tiny", "--steps", "3", "--batch-size", "4", "--sampler", "all-tasks",
            "--out", _run.Path, "--json");

        run.ExitCode.ShouldBe(0, run.Error);
        var refused = run.Json.GetProperty("refused").EnumerateArray().ShouldHaveSingleItem();
        refused.GetProperty("task").GetString().ShouldBe("broken");
        refused.GetProperty("reason").GetString().ShouldBe(
            "its dataset adapter threw InvalidOperationException: the vocabulary could not be read ← FormatException: line 7 is not a number");
        var faulty = run.Json.GetProperty("tasks").EnumerateArray().Single(t => t.GetProperty("id").GetString() == "faulty");
        faulty.GetProperty("state").GetString().ShouldBe("Quarantined");
        faulty.GetProperty("quarantineReason").GetString().ShouldBe(
            "training step 0 failed: InvalidOperationException: the head failed ← ArithmeticException: overflow in layer 2");
    }

    [Fact]
    public void A_hot_reload_quarantine_shows_the_inner_exception()
    {
        PluginCompiler.Build(_plugins.Path, "Alpha", new Variant("alpha"));
        using var run = new HotReloadHarness(_plugins);
        run.Steps(1);

        PluginCompiler.Build(_plugins.Path, "Cultured", new Variant("cultured", ConstructorTypeInitializerThrows: true));
        run.ApplyChange();
        PluginCompiler.Build(_plugins.Path, "Broken", new Variant("broken", DataThrowsWithCause: true));
        run.ApplyChange();

        var cultured = run.Coordinator.Status.Of("Cultured")!;
        cultured.State.ShouldBe(PluginRunState.Quarantined);
        cultured.Reason.ShouldNotBeNull().ShouldContain("threw TypeInitializationException: ");
        cultured.Reason.ShouldContain(CultureCause);
        run.Coordinator.Status.Of("Broken")!.Reason.ShouldBe(
            "task 'broken': its dataset adapter or head threw InvalidOperationException: the vocabulary could not be read ← FormatException: line 7 is not a number");
        run.Events(PluginEventKind.Quarantined).Select(e => e.Message).ShouldContain(m => m.Contains(CultureCause));
    }

    [Fact]
    public void Hot_reload_data_errors_name_the_file_in_the_plugin_folder_and_the_task_once()
    {
        PluginCompiler.Build(_plugins.Path, "Alpha", new Variant("alpha"));
        var log = new ListLogger();
        using var run = new HotReloadHarness(_plugins, logger: log);
        run.Steps(1);

        // A training split with a bad line, and no validation split.
        var data = Directory.CreateDirectory(_plugins.Combine("Beta", "data", "beta")).FullName;
        File.WriteAllLines(Path.Combine(data, "train.jsonl"), ["{\"text\": \"a b c\", \"label\": \"short\"}", "{\"text\": \"a b c\"}"]);
        PluginCompiler.Build(_plugins.Path, "Beta", new Variant("beta", FileData: true));
        run.ApplyChange();

        var reason = run.Coordinator.Status.Of("Beta")!.Reason.ShouldNotBeNull();
        reason.ShouldStartWith($"task 'beta': data file '{Path.Combine(data, "validation.jsonl")}' does not exist.");
        Regex.Count(reason, "task 'beta'", RegexOptions.IgnoreCase).ShouldBe(1, reason);
        run.Events(PluginEventKind.Quarantined).ShouldHaveSingleItem().Message.ShouldContain(Path.Combine(data, "validation.jsonl"));
        log.Messages.ShouldContain(m => m.Contains($"skipped bad data line {Path.Combine(data, "train.jsonl")}:2: missing field \"label\""));
        log.Messages.ShouldNotContain(m => m.Contains(run.Coordinator.ShadowDirectory));
    }

    [Fact]
    public void A_version_that_fails_in_training_is_quarantined_naming_the_file_in_the_plugin_folder()
    {
        PluginCompiler.Build(_plugins.Path, "Alpha", new Variant("alpha"));
        PluginCompiler.Build(_plugins.Path, "Beta", new Variant("beta"));
        var log = new ListLogger();
        using var run = new HotReloadHarness(_plugins, logger: log);
        run.Steps(3);

        PluginCompiler.Build(_plugins.Path, "Beta", new Variant("beta", "2.0.0.0", TrainingMissesAFile: true));
        run.ApplyChange();
        for (var i = 0; i < 300 && run.Coordinator.Status.Of("Beta")!.State == PluginRunState.Training; i++)
        {
            run.Steps(1);
        }

        var status = run.Coordinator.Status.Of("Beta")!;
        status.State.ShouldBe(PluginRunState.TrainingLastGood);
        var missing = $"FileNotFoundException: Could not find file '{_plugins.Combine("Beta", "lexicon.txt")}'.";
        status.Reason.ShouldNotBeNull().ShouldContain(missing);
        run.Events(PluginEventKind.Quarantined).ShouldHaveSingleItem().Message.ShouldContain(missing);
        log.Messages.ShouldContain(m => m.StartsWith("Quarantined task beta from plugin Beta: ", StringComparison.Ordinal) && m.Contains(missing));
        log.Messages.ShouldNotContain(m => m.Contains(run.Coordinator.ShadowDirectory));
    }
}
