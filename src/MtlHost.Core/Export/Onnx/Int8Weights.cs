namespace MtlHost.Core.Export.Onnx;

/// <summary>
/// Symmetric per-column int8 quantization of a weight matrix for <c>MatMulInteger</c>: column n (an output
/// feature) of Wᵀ is stored as round(w / scale[n]) with scale[n] = max |w| / <see cref="Limit"/> and zero point 0.
/// </summary>
/// <remarks>
/// The full 8-bit range, as ONNX Runtime's own <c>quantize_dynamic</c> does by default: measured on MiniLM it kept more
/// predictions equal to fp32 than 7 bits (<c>reduce_range</c>, ±63) did, e.g. 94.1% against 91.6% of the pos-tagging
/// sentences (with activations then quantized per batch). The price: on x64 CPUs without VNNI, ONNX Runtime's AVX2 kernel multiplies the uint8 activations by the
/// int8 weights with <c>vpmaddubsw</c>, whose int16 sum of two products can saturate (255 · 127 · 2 > 32,767), so
/// there a few results may differ from a VNNI or ARM machine's; 63 here would rule that out at the cost above.
/// </remarks>
internal static class Int8Weights
{
    /// <summary>The largest quantized magnitude.</summary>
    public const int Limit = 127;

    /// <summary>Quantizes a [rows, columns] (Hugging Face [out, in]) weight.</summary>
    /// <param name="w">The weight, row-major [out, in].</param>
    /// <param name="rows">Output features.</param>
    /// <param name="columns">Input features.</param>
    /// <returns>Wᵀ quantized, row-major [in, out], and one scale per output feature.</returns>
    public static (sbyte[] Values, float[] Scales) Quantize(float[] w, int rows, int columns)
    {
        var scales = new float[rows];
        var values = new sbyte[w.Length];
        for (var r = 0; r < rows; r++)
        {
            var max = 0f;
            for (var c = 0; c < columns; c++)
            {
                max = Math.Max(max, Math.Abs(w[r * columns + c]));
            }
            // An all-zero feature (a fresh adapter's up-projection) keeps scale 1 so no division by zero.
            var scale = max > 0 ? max / Limit : 1f;
            scales[r] = scale;
            for (var c = 0; c < columns; c++)
            {
                values[c * rows + r] = (sbyte)Math.Clamp(MathF.Round(w[r * columns + c] / scale), -Limit, Limit);
            }
        }
        return (values, scales);
    }
}
