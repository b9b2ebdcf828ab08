using MtlHost.Core.Encoders;
using Shouldly;
using Xunit;
using static TorchSharp.torch;

namespace MtlHost.Tests.Encoders;

/// <summary>The counter-based keep-masks of the encoder's dropout: SplitMix64's stream, vectorised or not, and unbiased.</summary>
public sealed class DropoutMaskTests
{
    [Fact]
    public void Element_i_is_half_of_SplitMix64s_output_i_over_2_in_the_vectorised_part_and_the_tail_alike()
    {
        const ulong seed = 0x0123456789ABCDEF;
        const double p = 0.25;
        // 1,003 elements: whole vectors, then a tail of three the scalar loop writes.
        var mask = new float[1003];
        DropoutMask.Fill(mask, seed, p);

        // SplitMix64 as its authors state it, step by step, independently of DropoutMask's counter form.
        var state = seed;
        for (var i = 0; i < mask.Length; i += 2)
        {
            state += 0x9E3779B97F4A7C15UL;
            var z = state;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
            foreach (var (index, value) in new[] { (i, (uint)z), (i + 1, (uint)(z >> 32)) })
            {
                if (index < mask.Length)
                {
                    mask[index].ShouldBe(value >= p * 4294967296.0 ? 1 / 0.75f : 0f, $"element {index}");
                }
            }
        }
    }

    [Fact]
    public void The_keep_share_is_one_minus_p_and_neighbours_and_successive_masks_are_independent()
    {
        var mask = new float[1_000_000];
        DropoutMask.Fill(mask, 42, 0.5);
        // 10^6 draws: the standard deviation of a share of 1/2 is 0.0005, of 1/4 over 5 · 10^5 pairs 0.0006.
        ((double)mask.Count(m => m != 0)).ShouldBe(500_000, 2_000);
        var sameOutput = Enumerable.Range(0, mask.Length / 2).Count(j => mask[2 * j] != 0 && mask[2 * j + 1] != 0);
        var nextOutput = Enumerable.Range(0, mask.Length / 2 - 1).Count(j => mask[2 * j + 1] != 0 && mask[2 * j + 2] != 0);
        (sameOutput / 500_000.0).ShouldBe(0.25, 0.003);
        (nextOutput / 500_000.0).ShouldBe(0.25, 0.003);

        var next = new float[mask.Length];
        DropoutMask.Fill(next, 43, 0.5);
        (mask.Zip(next).Count(pair => (pair.First != 0) == (pair.Second != 0)) / 1e6).ShouldBe(0.5, 0.002);
    }

    [Fact]
    public void P_0_keeps_everything_a_p_just_below_1_drops_almost_everything_and_p_outside_0_1_is_refused()
    {
        var mask = new float[4096];
        DropoutMask.Fill(mask, 7, 0);
        mask.ShouldAllBe(m => m == 1f);
        DropoutMask.Fill(mask, 7, 1 - 1e-12);
        mask.Count(m => m != 0).ShouldBeLessThanOrEqualTo(1);
        Should.Throw<ArgumentOutOfRangeException>(() => DropoutMask.Fill(mask, 7, 1));
        Should.Throw<ArgumentOutOfRangeException>(() => DropoutMask.Fill(mask, 7, -0.1));
    }

    [Fact]
    public void The_module_writes_the_counter_based_mask_for_cpu_float32_and_draws_its_seed_from_torch()
    {
        using var scope = NewDisposeScope();
        using var dropout = new UniformMaskDropout(0.3);
        dropout.train();
        var input = ones(3, 5, 7);
        manual_seed(9);
        var output = dropout.call(input);

        manual_seed(9);
        var seed = (ulong)randint(long.MaxValue, [1], ScalarType.Int64).item<long>();
        var expected = new float[input.numel()];
        DropoutMask.Fill(expected, seed, 0.3);
        output.data<float>().ToArray().ShouldBe(expected);
    }
}
