using System.Text.Json;
using MtlHost.Tests.Infrastructure;
using Shouldly;
using Xunit;

namespace MtlHost.Tests.Serve;

/// <summary>
/// SIGTERM (kill, docker stop, systemd) to a real mtlhost process: the run finishes its step, writes its checkpoint and
/// summary, and the process exits 0 — for the service and for <c>train --watch</c> alike.
/// </summary>
public sealed class StopSignalTests
{
    [Fact]
    public async Task Serve_stops_on_SIGTERM_with_a_checkpoint_and_exit_code_0()
    {
        using var plugins = new TemporaryDirectory();
        plugins.CopyPlugin(Path.Combine(RepositoryPaths.SamplePlugins, "Spam"));
        using var run = new TemporaryDirectory();
        using var host = HostProcess.Start("serve", "--encoder", "tiny", "--plugins", plugins.Path, "--out", run.Path, "--urls", "http://127.0.0.1:0",
            "--batch-size", "8", "--max-length", "32");

        var line = host.WaitForErrorLine("Dashboard: ");
        var url = line[(line.IndexOf("http://", StringComparison.Ordinal))..].Split(' ')[0];
        using var client = new HttpClient { BaseAddress = new Uri(url) };
        var step = 0;
        for (var deadline = DateTime.UtcNow.AddMinutes(3); step < 5 && DateTime.UtcNow < deadline; await Task.Delay(200))
        {
            step = JsonDocument.Parse(await client.GetStringAsync("/api/status")).RootElement.GetProperty("step").GetInt32();
        }
        step.ShouldBeGreaterThanOrEqualTo(5, host.Error);

        host.Terminate();

        host.WaitForExit().ShouldBe(0, host.Error);
        AssertStoppedWithCheckpoint(run.Path, step);
    }

    [Fact]
    public void Train_watch_stops_on_SIGTERM_with_a_checkpoint_and_exit_code_0()
    {
        using var plugins = new TemporaryDirectory();
        plugins.CopyPlugin(Path.Combine(RepositoryPaths.SamplePlugins, "Spam"));
        using var run = new TemporaryDirectory();
        var settings = run.Combine("settings.json");
        File.WriteAllText(settings, """{ "Training": { "LogEvery": 5 } }""");
        using var host = HostProcess.Start("train", "--watch", "--config", settings, "--encoder", "tiny", "--plugins", plugins.Path,
            "--out", run.Combine("out"), "--steps", "1000000", "--batch-size", "8", "--max-length", "32");

        host.WaitForErrorLine("step 10/1000000");
        host.Terminate();

        host.WaitForExit().ShouldBe(0, host.Error);
        AssertStoppedWithCheckpoint(run.Combine("out"), 10);
    }

    private static void AssertStoppedWithCheckpoint(string outDirectory, int atLeast)
    {
        var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDirectory, "summary.json"))).RootElement;
        var steps = summary.GetProperty("steps").GetInt32();
        steps.ShouldBeGreaterThanOrEqualTo(atLeast);
        steps.ShouldBeLessThan(1_000_000, "the signal ended the run early");
        var manifest = Path.Combine(summary.GetProperty("checkpoint").GetString()!, "manifest.json");
        File.Exists(manifest).ShouldBeTrue();
        JsonDocument.Parse(File.ReadAllText(manifest)).RootElement.GetProperty("tasks").GetArrayLength().ShouldBe(1);
    }
}
