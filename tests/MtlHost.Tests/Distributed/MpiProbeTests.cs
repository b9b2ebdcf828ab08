using MtlHost.Tests.Infrastructure;
using Shouldly;
using Xunit;

namespace MtlHost.Tests.Distributed;

/// <summary>
/// The MPI layer against the real Open MPI: mpirun starts the probe (tests/MtlHost.MpiProbe) on two ranks, each rank
/// checks what the collectives delivered against what it computes itself, and exits non-zero on any mismatch.
/// Needs mpirun: these tests fail, naming the package to install, where it is missing.
/// </summary>
[Collection(MpiRunCollection.Name)]
public sealed class MpiProbeTests
{
    // Bounds a hang (a rank stuck in a collective); not a speed limit. Two .NET processes start in a few seconds.
    private static readonly TimeSpan HangLimit = TimeSpan.FromMinutes(3);

    [Fact]
    public void Allreduce_broadcast_and_averaged_scalars_agree_on_every_rank()
    {
        var run = MpiRun.RunProbe(2, "collectives", HangLimit);

        run.ExitCode.ShouldBe(0, run.Output);
        run.Output.ShouldContain("rank 0/2 collectives ok", customMessage: run.Output);
        run.Output.ShouldContain("rank 1/2 collectives ok", customMessage: run.Output);
    }

    [Fact]
    public void Gradient_buckets_average_every_rank_s_gradients_and_broadcast_rank_0_s_weights()
    {
        var run = MpiRun.RunProbe(2, "buckets", HangLimit);

        run.ExitCode.ShouldBe(0, run.Output);
        run.Output.ShouldContain("rank 0/2 buckets ok", customMessage: run.Output);
        run.Output.ShouldContain("rank 1/2 buckets ok", customMessage: run.Output);
    }

    [Fact]
    public void Large_gradients_reduced_in_place_average_like_the_buckets()
    {
        // Three parameters of 1 KiB or more skip the buckets, one of them with a gradient on rank 0 only.
        var run = MpiRun.RunProbe(2, "buckets-in-place", HangLimit);

        run.ExitCode.ShouldBe(0, run.Output);
        run.Output.ShouldContain("rank 0/2 buckets-in-place ok", customMessage: run.Output);
        run.Output.ShouldContain("rank 1/2 buckets-in-place ok", customMessage: run.Output);
    }

    [Fact]
    public void Three_ranks_average_alike()
    {
        // An odd number of ranks: a mean that is not a power-of-two division, and Open MPI's non-pairwise algorithms.
        var run = MpiRun.RunProbe(3, "buckets", HangLimit);

        run.ExitCode.ShouldBe(0, run.Output);
        run.Output.ShouldContain("rank 2/3 buckets ok", customMessage: run.Output);
    }

    [Fact]
    public void Ranks_with_different_parameters_all_refuse_instead_of_hanging()
    {
        var run = MpiRun.RunProbe(2, "mismatch", HangLimit);

        run.ExitCode.ShouldBe(0, run.Output);
        run.Output.ShouldContain("rank 0: The gradient buckets differ between ranks", customMessage: run.Output);
        run.Output.ShouldContain("rank 1: The gradient buckets differ between ranks", customMessage: run.Output);
    }

    [Fact]
    public void A_rank_that_aborts_brings_every_rank_down_with_a_non_zero_exit_within_30_seconds()
    {
        // Rank 1 fails while rank 0 waits for it in an all-reduce.
        var run = MpiRun.RunProbe(2, "abort", HangLimit, marker: "aborting the run");

        run.ExitCode.ShouldNotBe(-1, run.Output);
        run.ExitCode.ShouldNotBe(0, run.Output);
        // The failing rank's own line, not mpirun's "MPI_ABORT was invoked on rank 1" report: under load mpirun can
        // fail to print that (ORTE_ERROR_LOG in show_help.c, seen on a CI run) while the ranks end as they should.
        run.Output.ShouldContain("rank 1: rank 1 fails; aborting the run", customMessage: run.Output);
        run.FirstMarkerToExit.ShouldNotBeNull(run.Output);
        run.FirstMarkerToExit.Value.ShouldBeLessThan(TimeSpan.FromSeconds(30), run.Output);
    }

    [Fact]
    public void An_unhandled_exception_on_one_rank_aborts_the_run_instead_of_hanging_in_finalize()
    {
        // Without the group's handler, the exception's unwinding disposed the group (MPI_Finalize), which waited for
        // rank 0, which waited in the all-reduce: a hang.
        var run = MpiRun.RunProbe(2, "crash", HangLimit, marker: "unhandled exception");

        run.ExitCode.ShouldNotBe(-1, run.Output);
        run.ExitCode.ShouldBe(Core.Distributed.MpiProcessGroup.UnhandledExceptionExitCode, run.Output);
        run.Output.ShouldContain("rank 1 fails and nothing catches it", customMessage: run.Output);
        run.FirstMarkerToExit.ShouldNotBeNull(run.Output);
        run.FirstMarkerToExit.Value.ShouldBeLessThan(TimeSpan.FromSeconds(30), run.Output);
    }
}
