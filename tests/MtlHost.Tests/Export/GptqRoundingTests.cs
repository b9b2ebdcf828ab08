using MtlHost.Core.Export.Onnx;
using Shouldly;
using Xunit;
using Xunit.Abstractions;

namespace MtlHost.Tests.Export;

/// <summary>
/// GPTQ's int8 rounding against round-to-nearest (<see cref="Int8Weights"/>) on synthetic weights and activations: the same
/// grid, the same codes when the input's channels are uncorrelated, a smaller output error when they are correlated.
/// </summary>
public sealed class GptqRoundingTests(ITestOutputHelper log)
{
    private const int Rows = 24;
    private const int Columns = 64;
    private const int Tokens = 512;

    [Fact]
    public void With_uncorrelated_channels_it_rounds_to_nearest()
    {
        var random = new Random(3);
        var w = Weights(random);
        // A diagonal Σ x xᵀ: no column can make up for another's rounding.
        var correlation = new float[Columns * Columns];
        for (var c = 0; c < Columns; c++)
        {
            correlation[c * Columns + c] = 1 + c;
        }

        var gptq = GptqRounding.Quantize(w, Rows, Columns, correlation);
        var nearest = Int8Weights.Quantize(w, Rows, Columns);

        gptq.Values.ShouldBe(nearest.Values);
        gptq.Scales.ShouldBe(nearest.Scales, tolerance: 1e-7);
    }

    [Fact]
    public void With_correlated_channels_it_keeps_the_output_closer_to_fp32_on_the_same_grid()
    {
        var random = new Random(5);
        var w = Weights(random);
        var mixing = Mixing(random);
        // Calibrated on one sample of the activations, judged on another.
        var gptq = GptqRounding.Quantize(w, Rows, Columns, Correlation(CorrelatedActivations(random, mixing)));
        var nearest = Int8Weights.Quantize(w, Rows, Columns);
        var x = CorrelatedActivations(random, mixing);

        gptq.Scales.ShouldBe(nearest.Scales, tolerance: 1e-7);
        gptq.Values.ShouldAllBe(v => v >= -Int8Weights.Limit && v <= Int8Weights.Limit);
        // Spreading the error moves some codes off their nearest value.
        gptq.Values.Zip(nearest.Values).Count(p => p.First != p.Second).ShouldBeGreaterThan(0);
        var gptqError = OutputError(w, gptq, x);
        var nearestError = OutputError(w, nearest, x);
        log.WriteLine($"Σ (x·(W − Ŵ)ᵀ)² over {Tokens} new tokens: GPTQ {gptqError:E3}, round-to-nearest {nearestError:E3}");
        // Six shared factors leave H nearly low-rank, so most of the rounding error can be cancelled.
        gptqError.ShouldBeLessThan(nearestError * 0.2);
    }

    [Fact]
    public void A_channel_never_active_in_calibration_gets_zero_weights()
    {
        var random = new Random(9);
        var w = Weights(random);
        var x = CorrelatedActivations(random, Mixing(random));
        const int Silent = 17;
        for (var t = 0; t < Tokens; t++)
        {
            x[t * Columns + Silent] = 0;
        }

        var (values, _) = GptqRounding.Quantize(w, Rows, Columns, Correlation(x));

        for (var r = 0; r < Rows; r++)
        {
            values[Silent * Rows + r].ShouldBe((sbyte)0);
        }
    }

    [Fact]
    public void Lazy_block_updates_round_as_one_block_does()
    {
        // 300 columns: two full blocks of 128 and a partial one, so the updates between blocks run.
        const int Wide = 300;
        var random = new Random(13);
        var w = Enumerable.Range(0, Rows * Wide).Select(_ => (float)(Normal(random) / Math.Sqrt(Wide))).ToArray();
        var mixing = Enumerable.Range(0, 8 * Wide).Select(_ => Normal(random)).ToArray();
        var x = new float[2 * Wide * Wide];
        for (var t = 0; t < 2 * Wide; t++)
        {
            var factors = Enumerable.Range(0, 8).Select(_ => Normal(random)).ToArray();
            for (var c = 0; c < Wide; c++)
            {
                x[t * Wide + c] = (float)(0.1 * Normal(random) + Enumerable.Range(0, 8).Sum(f => factors[f] * mixing[f * Wide + c]));
            }
        }
        var correlation = Correlation(x, Wide);

        var blocked = GptqRounding.Quantize(w, Rows, Wide, correlation);
        var whole = GptqRounding.Quantize(w, Rows, Wide, correlation, blockSize: Wide);

        GptqRounding.DefaultBlockSize.ShouldBeLessThan(Wide / 2);
        blocked.Values.ShouldBe(whole.Values);
        blocked.Values.Zip(Int8Weights.Quantize(w, Rows, Wide).Values).Count(p => p.First != p.Second).ShouldBeGreaterThan(0);
    }

    [Fact]
    public void A_correlation_of_the_wrong_size_is_refused()
    {
        var w = Weights(new Random(1));
        Should.Throw<ArgumentException>(() => GptqRounding.Quantize(w, Rows, Columns, new float[Columns * Columns - 1]))
            .Message.ShouldContain($"[{Columns}, {Columns}]");
    }

    private static float[] Weights(Random random) =>
        Enumerable.Range(0, Rows * Columns).Select(_ => (float)(Normal(random) / Math.Sqrt(Columns))).ToArray();

    private const int Factors = 6;

    private static double[] Mixing(Random random) => Enumerable.Range(0, Factors * Columns).Select(_ => Normal(random)).ToArray();

    // Tokens whose channels mix a few shared factors, as a transformer's activations do, plus a little noise of their own.
    private static float[] CorrelatedActivations(Random random, double[] mixing)
    {
        var x = new float[Tokens * Columns];
        for (var t = 0; t < Tokens; t++)
        {
            var factors = Enumerable.Range(0, Factors).Select(_ => Normal(random)).ToArray();
            for (var c = 0; c < Columns; c++)
            {
                var value = 0.1 * Normal(random);
                for (var f = 0; f < Factors; f++)
                {
                    value += factors[f] * mixing[f * Columns + c];
                }
                x[t * Columns + c] = (float)value;
            }
        }
        return x;
    }

    private static float[] Correlation(float[] x, int columns = Columns)
    {
        var h = new double[columns * columns];
        for (var t = 0; t < x.Length / columns; t++)
        {
            for (var i = 0; i < columns; i++)
            {
                for (var j = 0; j < columns; j++)
                {
                    h[i * columns + j] += (double)x[t * columns + i] * x[t * columns + j];
                }
            }
        }
        return Array.ConvertAll(h, v => (float)v);
    }

    // Σ over tokens and outputs of (x · Wᵀ − x · Ŵᵀ)², Ŵ dequantized from Wᵀ's codes ([in, out]) and the per-output scales.
    private static double OutputError(float[] w, (sbyte[] Values, float[] Scales) quantized, float[] x)
    {
        var error = 0.0;
        for (var t = 0; t < Tokens; t++)
        {
            for (var r = 0; r < Rows; r++)
            {
                var difference = 0.0;
                for (var c = 0; c < Columns; c++)
                {
                    difference += x[t * Columns + c] * (w[r * Columns + c] - quantized.Values[c * Rows + r] * (double)quantized.Scales[r]);
                }
                error += difference * difference;
            }
        }
        return error;
    }

    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
