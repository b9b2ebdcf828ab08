namespace MtlHost.Core.Export.Onnx;

/// <summary>
/// SmoothQuant's per-input-channel factors for the weights that read one activation: s[j] = max|x[j]|^α / max|w[·, j]|^(1−α),
/// so that x / s and s · W compute x · Wᵀ with the activation's outlier channels tamed and the weights' range barely widened.
/// </summary>
internal static class SmoothingFactors
{
    // Keeps a factor finite and its inverse representable when a channel was never active or a weight column is all zero.
    private const float Smallest = 1e-5f;
    private const float Largest = 1e5f;

    /// <summary>The factors of one input.</summary>
    /// <param name="activationMaxima">max |x[j]| over the calibration tokens, one per input channel.</param>
    /// <param name="weights">Every weight reading the input, each row-major [out, in] (Hugging Face layout).</param>
    /// <param name="alpha">Migration strength in [0, 1].</param>
    /// <returns>One factor per input channel.</returns>
    public static float[] Compute(float[] activationMaxima, IReadOnlyList<float[]> weights, float alpha)
    {
        var columns = activationMaxima.Length;
        var weightMaxima = new float[columns];
        foreach (var w in weights)
        {
            if (w.Length % columns != 0)
            {
                throw new ArgumentException($"A weight of {w.Length} values does not have {columns} input features.", nameof(weights));
            }
            for (var i = 0; i < w.Length; i++)
            {
                var c = i % columns;
                weightMaxima[c] = Math.Max(weightMaxima[c], Math.Abs(w[i]));
            }
        }
        var factors = new float[columns];
        for (var c = 0; c < columns; c++)
        {
            factors[c] = activationMaxima[c] > 0 && weightMaxima[c] > 0
                ? Math.Clamp(MathF.Pow(activationMaxima[c], alpha) / MathF.Pow(weightMaxima[c], 1 - alpha), Smallest, Largest)
                : 1f;
        }
        return factors;
    }

    /// <summary>Σ (x / s)(x / s)ᵀ from Σ x xᵀ: the correlation of the smoothed input that the smoothed weights read, for GPTQ.</summary>
    /// <param name="correlation">Σ x xᵀ, row-major [channels, channels].</param>
    /// <param name="factors">The input's factors s, one per channel.</param>
    /// <returns>Entry (i, j) divided by s_i · s_j.</returns>
    public static float[] SmoothedCorrelation(float[] correlation, float[] factors)
    {
        var channels = factors.Length;
        if (correlation.Length != channels * channels)
        {
            throw new ArgumentException($"A correlation of {correlation.Length} values is not [{channels}, {channels}].", nameof(correlation));
        }
        var smoothed = new float[correlation.Length];
        for (var i = 0; i < channels; i++)
        {
            for (var j = 0; j < channels; j++)
            {
                smoothed[i * channels + j] = (float)(correlation[i * channels + j] / ((double)factors[i] * factors[j]));
            }
        }
        return smoothed;
    }
}
