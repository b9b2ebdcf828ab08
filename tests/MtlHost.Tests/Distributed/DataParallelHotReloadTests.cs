using System.Globalization;
using System.Text.Json;
using MtlHost.HotReload;
using MtlHost.Tests.Infrastructure;
using Shouldly;
using Xunit;

namespace MtlHost.Tests.Distributed;

/// <summary>
/// <c>mpirun -np 2 mtlhost train --watch</c>: plugins dropped into rank 0's folder reach rank 1 as files sent by rank 0
/// (rank 1 never reads the folder), every change is applied on both ranks at the same step boundary, a version that fails
/// on one rank only is quarantined on both, and the ranks end with the same weights, bit for bit.
/// </summary>
[Collection(MpiRunCollection.Name)]
public sealed class DataParallelHotReloadTests : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(4);
    private readonly TemporaryDirectory _plugins = new();
    private readonly TemporaryDirectory _runs = new();

    public void Dispose()
    {
        _plugins.Dispose();
        _runs.Dispose();
    }

    [Fact]
    public void Plugins_added_replaced_broken_and_removed_under_two_processes_change_both_alike()
    {
        PluginCompiler.Build(_plugins.Path, "Alpha", new PluginCompiler.Variant("alpha"));
        var run = _runs.Combine("watch");
        using var mpirun = MpiRunProcess.Start(2, Train(run));
        mpirun.WaitForOutput("Training on 2 processes");

        PluginCompiler.Build(_plugins.Path, "Beta", new PluginCompiler.Variant("beta"));
        WaitForEvent(run, mpirun, e => e.Kind == PluginEventKind.Added && e.TaskId == "beta");

        PluginCompiler.Build(_plugins.Path, "Beta", new PluginCompiler.Variant("beta", Version: "2.0.0.0", HiddenLayer: true));
        WaitForEvent(run, mpirun, e => e.Kind == PluginEventKind.Replaced && e.TaskId == "beta");

        // Its data reads on rank 0 and fails on rank 1: both quarantine it, with rank 1's reason.
        PluginCompiler.Build(_plugins.Path, "Broken", new PluginCompiler.Variant("broken", DataFailsOnRank1: true));
        var quarantine = WaitForEvent(run, mpirun, e => e.Kind == PluginEventKind.Quarantined && e.Plugin == "Broken");
        quarantine.Message.ShouldContain("the data is not on rank 1");

        Directory.Delete(Path.Combine(_plugins.Path, "Beta"), recursive: true);
        WaitForEvent(run, mpirun, e => e.Kind == PluginEventKind.Removed && e.TaskId == "beta");

        // SIGTERM reaches the two ranks at different moments; they stop after the same step.
        mpirun.TerminateRanks(2);
        mpirun.WaitForExit(Limit).ShouldBe(0, mpirun.Output);

        mpirun.Output.ShouldContain("The 2 processes ended with the same weights");
        var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "summary.json"))).RootElement;
        summary.GetProperty("tasks").EnumerateArray().Select(t => t.GetProperty("id").GetString()).ShouldBe(["alpha"]);
        summary.GetProperty("tasks")[0].GetProperty("state").GetString().ShouldBe("Training");
    }

    private static PluginEvent WaitForEvent(string run, MpiRunProcess mpirun, Func<PluginEvent, bool> match)
    {
        // Bounds a hang; a change is applied within seconds (500 ms to settle, then the next step boundary).
        for (var deadline = DateTime.UtcNow + Limit; DateTime.UtcNow < deadline; Thread.Sleep(200))
        {
            if (mpirun.WaitForExit(TimeSpan.Zero) is { } code)
            {
                throw new InvalidOperationException($"mpirun exited with {code} before the plugin event. Output:\n{mpirun.Output}");
            }
            try
            {
                if (PluginStatusFile.Read(run).Events.FirstOrDefault(match) is { } found)
                {
                    return found;
                }
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or InvalidDataException or JsonException)
            {
                // Not written yet.
            }
        }
        throw new InvalidOperationException($"The plugin event never came. Output:\n{mpirun.Output}");
    }

    private string[] Train(string outDirectory) =>
    [
        DotnetCli.Executable, HostProcess.HostAssembly,
        "train", "--watch", "--plugins", _plugins.Path, "--encoder", "tiny", "--steps", "1000000", "--batch-size", "4", "--max-length", "32",
        "--attention-dropout", "0", "--dropout", "0", "--threads", "1", "--seed", "5", "--eval-every", "0",
        "--out", outDirectory, "--json",
    ];
}
