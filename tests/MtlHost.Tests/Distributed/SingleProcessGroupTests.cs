using MtlHost.Core.Distributed;
using Shouldly;
using Xunit;

namespace MtlHost.Tests.Distributed;

/// <summary>A process that trains alone: rank 0 of 1, every collective leaves its values as they are.</summary>
public sealed class SingleProcessGroupTests
{
    [Fact]
    public void It_is_rank_0_of_1_and_the_root()
    {
        using var group = new SingleProcessGroup();

        group.Rank.ShouldBe(0);
        group.Size.ShouldBe(1);
        group.IsRoot.ShouldBeTrue();
    }

    [Fact]
    public void Sums_and_broadcasts_over_one_process_are_its_own_values()
    {
        using var group = new SingleProcessGroup();
        float[] floats = [1.5f, -2f, 3f];
        double[] doubles = [0.25, 1e300];
        byte[] bytes = [1, 2, 3];

        group.AllReduceSum(floats);
        group.AllReduceSum(doubles);
        group.Broadcast(bytes);
        group.Barrier();

        floats.ShouldBe([1.5f, -2f, 3f]);
        doubles.ShouldBe([0.25, 1e300]);
        bytes.ShouldBe([(byte)1, (byte)2, (byte)3]);
    }

    [Fact]
    public void A_broadcast_from_a_rank_that_does_not_exist_is_refused()
    {
        using var group = new SingleProcessGroup();

        Should.Throw<ArgumentOutOfRangeException>(() => group.Broadcast(new byte[1], root: 1));
    }

    [Fact]
    public void Payloads_of_unknown_length_and_averaged_scalars_come_back_unchanged()
    {
        using var group = new SingleProcessGroup();
        byte[] payload = [9, 8, 7];
        double[] losses = [0.5, 2.25];

        group.BroadcastBytes(payload).ShouldBeSameAs(payload);
        group.BroadcastString("héllo ✓").ShouldBe("héllo ✓");
        var means = group.ReduceScalars(losses);

        means.ShouldBe([0.5, 2.25]);
        means.ShouldNotBeSameAs(losses);
        Should.Throw<ArgumentNullException>(() => group.BroadcastBytes(null));
    }
}
