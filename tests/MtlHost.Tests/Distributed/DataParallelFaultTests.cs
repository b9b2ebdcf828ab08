using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using MtlHost.Core.Checkpoints;
using MtlHost.Tests.Infrastructure;
using Shouldly;
using Xunit;

namespace MtlHost.Tests.Distributed;

/// <summary>
/// A rank of <c>mpirun -np 2 mtlhost train</c> killed outright mid-run (SIGKILL: no handler runs, nothing is said): every
/// rank ends within 30 s with a non-zero exit, the last complete checkpoint is intact, and the same command resumes it.
/// </summary>
[Collection(MpiRunCollection.Name)]
public sealed class DataParallelFaultTests : IDisposable
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
    public void A_rank_killed_mid_run_ends_every_rank_and_a_restart_resumes_from_the_last_complete_checkpoint()
    {
        PluginCompiler.Build(_plugins.Path, "Alpha", new PluginCompiler.Variant("alpha"));
        PluginCompiler.Build(_plugins.Path, "Beta", new PluginCompiler.Variant("beta"));
        var run = _runs.Combine("killed");

        int killedAt;
        using (var mpirun = MpiRunProcess.Start(2, Train(run, steps: 1_000_000)))
        {
            mpirun.WaitForOutput("Training on 2 processes");
            WaitForCheckpoints(run, mpirun, count: 2);
            // Rank 0: the one that writes the checkpoints, so the kill may land in the middle of one.
            var victim = mpirun.RankProcessId(0, 2);
            var clock = Stopwatch.StartNew();
            MpiRunProcess.KillHard(victim);
            var code = mpirun.WaitForExit(TimeSpan.FromSeconds(30));
            code.ShouldNotBeNull($"mpirun was still running 30 s after rank 0 was killed. Output:\n{mpirun.Output}");
            code.Value.ShouldNotBe(0, mpirun.Output);
            clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(30));
            killedAt = LatestCheckpointStep(run);
        }
        killedAt.ShouldBeGreaterThanOrEqualTo(4);

        var restart = MpiRun.Run(2, Train(run, steps: killedAt + 4), Limit);
        restart.ExitCode.ShouldBe(0, restart.Output);
        restart.Output.ShouldContain($"Resuming from {Path.Combine(run, "checkpoints", "step-")}");
        restart.Output.ShouldContain($"step {killedAt}/");
        JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "summary.json"))).RootElement.GetProperty("steps").GetInt32().ShouldBe(killedAt + 4);
    }

    private static void WaitForCheckpoints(string run, MpiRunProcess mpirun, int count)
    {
        for (var deadline = DateTime.UtcNow + Limit; DateTime.UtcNow < deadline; Thread.Sleep(100))
        {
            if (mpirun.WaitForExit(TimeSpan.Zero) is { } code)
            {
                throw new InvalidOperationException($"mpirun exited with {code} before writing checkpoints. Output:\n{mpirun.Output}");
            }
            var folder = Path.Combine(run, "checkpoints");
            if (Directory.Exists(folder) && Directory.GetDirectories(folder, "step-*").Length >= count)
            {
                return;
            }
        }
        throw new InvalidOperationException($"No {count} checkpoints were written. Output:\n{mpirun.Output}");
    }

    // What a restart resumes: the newest checkpoint whose manifest and every file are complete.
    private static int LatestCheckpointStep(string run) =>
        (CheckpointStore.FindLatest(run, NullLogger.Instance) ?? throw new InvalidOperationException($"No complete checkpoint in {run}.")).Manifest.Step;

    private string[] Train(string outDirectory, int steps) =>
    [
        DotnetCli.Executable, HostProcess.HostAssembly,
        "train", "--plugins", _plugins.Path, "--encoder", "tiny", "--steps", steps.ToString(CultureInfo.InvariantCulture), "--batch-size", "4",
        "--max-length", "32", "--threads", "1", "--seed", "5", "--eval-every", "0", "--checkpoint-every", "2",
        "--out", outDirectory, "--json",
    ];
}
