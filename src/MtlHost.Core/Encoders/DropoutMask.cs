using System.Runtime.Intrinsics;

namespace MtlHost.Core.Encoders;

/// <summary>
/// Keep-masks for inverted dropout from a counter-based generator: the uniform 32-bit value of element i is one half of
/// SplitMix64's output number ⌊i / 2⌋ + 1 for the mask's seed (the low half for even i, the high half for odd i), and the
/// element is kept, as 1 / (1 − p), when that value is at least p · 2³².
/// </summary>
/// <remarks>
/// Why counter-based: libtorch's CPU generator (a Mersenne Twister) hands out its numbers one at a time in a serial loop,
/// about 2.9 ns an element here, which made drawing the mask the dearest part of a dropout; SplitMix64's output number k
/// is a function of the seed and k alone (mix(seed + k · γ)), so a whole mask is one vectorised pass, about 0.16 ns an
/// element (MiniLM's 2048 × 384 activations: 0.13 ms against 2.3 ms). SplitMix64 is the generator Java's
/// <c>SplittableRandom</c> is built on and passes BigCrush; the seed comes from torch's generator, so
/// <c>manual_seed</c> still reproduces every mask.
/// </remarks>
internal static class DropoutMask
{
    // SplitMix64's increment γ (the golden ratio's 64-bit fraction) and the multipliers of its mixing function.
    private const ulong Gamma = 0x9E3779B97F4A7C15UL;
    private const ulong FirstMultiplier = 0xBF58476D1CE4E5B9UL;
    private const ulong SecondMultiplier = 0x94D049BB133111EBUL;

    /// <summary>Writes a keep-mask: 1 / (1 − p) where an element is kept, 0 where it is dropped.</summary>
    /// <param name="mask">The mask to fill, one float per element.</param>
    /// <param name="seed">The mask's seed.</param>
    /// <param name="probability">The probability p of dropping an element, in [0, 1).</param>
    /// <exception cref="ArgumentOutOfRangeException">p is outside [0, 1).</exception>
    public static void Fill(Span<float> mask, ulong seed, double probability)
    {
        if (!(probability >= 0 && probability < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(probability), probability, "A dropout probability is at least 0 and below 1.");
        }
        var threshold = Threshold(probability);
        var scale = (float)(1 / (1 - probability));
        var start = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            // Four outputs, eight elements, a lane each: the counters k + 1 … k + 4 of elements 2k … 2k + 7.
            var counters = Vector256.Create(1UL, 2, 3, 4);
            var step = Vector256.Create(4UL);
            var seeds = Vector256.Create(seed);
            var thresholds = Vector256.Create(threshold);
            var scales = Vector256.Create(scale);
            for (; start + Vector256<float>.Count <= mask.Length; start += Vector256<float>.Count)
            {
                var z = seeds + counters * Vector256.Create(Gamma);
                counters += step;
                z = (z ^ Vector256.ShiftRightLogical(z, 30)) * Vector256.Create(FirstMultiplier);
                z = (z ^ Vector256.ShiftRightLogical(z, 27)) * Vector256.Create(SecondMultiplier);
                z ^= Vector256.ShiftRightLogical(z, 31);
                // On a little-endian machine output k's low half is lane 2k of the uint view, its high half lane 2k + 1.
                var kept = Vector256.GreaterThanOrEqual(z.AsUInt32(), thresholds).AsSingle();
                (kept & scales).CopyTo(mask[start..]);
            }
        }
        for (var i = start; i < mask.Length; i++)
        {
            var output = Output(seed, (ulong)(i / 2) + 1);
            var value = (uint)(i % 2 == 0 ? output : output >> 32);
            mask[i] = value >= threshold ? scale : 0f;
        }
    }

    /// <summary>SplitMix64's output number <paramref name="counter"/> (from 1) for <paramref name="seed"/>.</summary>
    /// <param name="seed">The generator's starting state.</param>
    /// <param name="counter">Which output, 1 for the first.</param>
    /// <returns>The 64-bit output.</returns>
    public static ulong Output(ulong seed, ulong counter)
    {
        var z = seed + counter * Gamma;
        z = (z ^ (z >> 30)) * FirstMultiplier;
        z = (z ^ (z >> 27)) * SecondMultiplier;
        return z ^ (z >> 31);
    }

    // round(p · 2³²), kept below 2³² so that a p just under 1 still keeps the values at the very top.
    private static uint Threshold(double probability) => (uint)Math.Min(Math.Round(probability * 4294967296.0), uint.MaxValue);
}
