using TorchSharp;
using static TorchSharp.torch;

namespace MtlHost.Core.Export.Onnx;

/// <summary>
/// Int8 weights rounded by GPTQ (Frantar, Ashkboos, Hoefler and Alistarh 2023; Optimal Brain Quantization's rounding,
/// Frantar and Alistarh 2022, taken column by column in a fixed order): each input
/// column of W is rounded to its int8 grid in turn and the rounding error is spread over the columns not yet rounded, in
/// proportion to how the calibration activations correlate with it, so that X·Ŵᵀ stays close to X·Wᵀ on those
/// activations rather than Ŵ to W element by element. Same grid as <see cref="Int8Weights"/> (symmetric, one scale per output
/// feature, ±127), so the ONNX graph is the same; only which way each weight rounds differs.
/// </summary>
/// <remarks>
/// As the reference implementation (<c>gptq.py</c>): the columns taken in order of decreasing activation energy
/// (<c>act_order</c>), H = Σ x xᵀ damped by 1% of its mean diagonal, H⁻¹'s upper Cholesky factor, lazy updates in blocks of
/// 128 columns; a channel never active in calibration is zeroed, as it contributes nothing there. In float64.
/// </remarks>
internal static class GptqRounding
{
    /// <summary>Share of H's mean diagonal added to its diagonal, so that H is invertible and the spread stays bounded.</summary>
    public const double Damping = 0.01;

    /// <summary>Columns per lazy update, as the reference implementation: the rest of W is updated once per block.</summary>
    public const int DefaultBlockSize = 128;

    /// <summary>Quantizes a [rows, columns] (Hugging Face [out, in]) weight given its input's correlation.</summary>
    /// <param name="w">The weight, row-major [out, in].</param>
    /// <param name="rows">Output features.</param>
    /// <param name="columns">Input features.</param>
    /// <param name="correlation">Σ x xᵀ over the calibration tokens of the input the weight reads, row-major [in, in].</param>
    /// <param name="blockSize">Columns per lazy update: the same result for any size, up to float rounding; the default is faster.</param>
    /// <returns>Wᵀ quantized, row-major [in, out], and one scale per output feature, as <see cref="Int8Weights.Quantize"/>.</returns>
    public static (sbyte[] Values, float[] Scales) Quantize(float[] w, int rows, int columns, float[] correlation, int blockSize = DefaultBlockSize)
    {
        if (w.Length != rows * columns || correlation.Length != columns * columns)
        {
            throw new ArgumentException($"A [{rows}, {columns}] weight needs {rows * columns} values and a [{columns}, {columns}] correlation; got {w.Length} and {correlation.Length}.");
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSize, 1);
        using var scope = NewDisposeScope();
        var weight = tensor(w, [rows, columns]).to(ScalarType.Float64);
        var h = tensor(correlation, [columns, columns]).to(ScalarType.Float64);
        // The grid is fixed by the unrounded weight, as Int8Weights's: the spread error never widens a scale.
        var maxima = weight.abs().amax([1]);
        var scales = where(maxima > 0, maxima / Int8Weights.Limit, ones_like(maxima));

        var energy = h.diagonal();
        var dead = energy <= 0;
        weight = weight.masked_fill(dead.unsqueeze(0), 0);
        h = h + diag(dead.to(ScalarType.Float64));
        var order = argsort(energy, descending: true);
        weight = weight.index_select(1, order);
        h = h.index_select(0, order).index_select(1, order);
        h = h + eye(columns, dtype: ScalarType.Float64) * (Damping * h.diagonal().mean().item<double>());
        // Row i of U (H⁻¹ = Uᵀ U) holds how the remaining columns absorb column i's error, already conditioned on the
        // columns before it.
        var upper = linalg.cholesky(cholesky_inverse(linalg.cholesky(h))).T.contiguous();

        var codes = zeros(rows, columns, ScalarType.Float64);
        var scale = scales.unsqueeze(1);
        for (var start = 0; start < columns; start += blockSize)
        {
            using var blockScope = NewDisposeScope();
            var count = Math.Min(blockSize, columns - start);
            var block = weight.narrow(1, start, count).clone();
            var errors = zeros(rows, count, ScalarType.Float64);
            var blockUpper = upper.narrow(0, start, count).narrow(1, start, count);
            for (var i = 0; i < count; i++)
            {
                var column = block.narrow(1, i, 1);
                var rounded = (column / scale).round_().clamp_(-Int8Weights.Limit, Int8Weights.Limit);
                codes.narrow(1, start + i, 1).copy_(rounded);
                var error = (column - rounded * scale) / blockUpper[i, i].item<double>();
                block.narrow(1, i, count - i).sub_(error.matmul(blockUpper.narrow(0, i, 1).narrow(1, i, count - i)));
                errors.narrow(1, i, 1).copy_(error);
            }
            if (start + count < columns)
            {
                var rest = columns - start - count;
                weight.narrow(1, start + count, rest).sub_(errors.matmul(upper.narrow(0, start, count).narrow(1, start + count, rest)));
            }
        }
        var restored = codes.index_select(1, argsort(order));
        var values = restored.T.contiguous().to(ScalarType.Int8).data<sbyte>().ToArray();
        return (values, scales.to(ScalarType.Float32).data<float>().ToArray());
    }
}
