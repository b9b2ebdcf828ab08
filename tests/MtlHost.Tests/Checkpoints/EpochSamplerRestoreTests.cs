using MtlHost.Core.Data;
using Shouldly;
using Xunit;

namespace MtlHost.Tests.Checkpoints;

public sealed class EpochSamplerRestoreTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(11)]
    [InlineData(25)]
    public void A_restored_sampler_hands_out_the_batches_an_uninterrupted_one_would(int batchesBefore)
    {
        // 10 examples in batches of 4: batches of 4, 4, 2 per epoch, so these cross epoch boundaries.
        var original = new EpochSampler(10, seed: 5);
        for (var i = 0; i < batchesBefore; i++)
        {
            original.Next(4);
        }

        var restored = new EpochSampler(10, seed: 5);
        restored.Restore(original.Epoch, original.Position);

        restored.Epoch.ShouldBe(original.Epoch);
        for (var i = 0; i < 7; i++)
        {
            restored.Next(4).ToArray().ShouldBe(original.Next(4).ToArray(), $"batch {batchesBefore + i}");
        }
    }
}
