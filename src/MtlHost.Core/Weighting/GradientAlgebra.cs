using static TorchSharp.torch;

namespace MtlHost.Core.Weighting;

/// <summary>
/// The tensor work of the gradient-based strategies: everything they decide depends on the task
/// gradients only through their K×K Gram matrix, so they solve in doubles on it and
/// <see cref="WeightingStep.SetSharedCombination"/> turns the answer into one weighted sum of the task gradients.
/// </summary>
internal static class GradientAlgebra
{
    // Columns per chunk when the Gram matrix is accumulated in doubles: bounds the float64 copy to K × 1M × 8 bytes.
    private const long Chunk = 1 << 20;

    /// <summary>G·Gᵀ of the rows of a [K, P] matrix, accumulated in doubles whatever the rows' type.</summary>
    public static double[,] Gram(Tensor rows)
    {
        var k = (int)rows.shape[0];
        var p = rows.shape[1];
        using var scope = NewDisposeScope();
        var total = zeros(k, k, ScalarType.Float64);
        for (long start = 0; start < p; start += Chunk)
        {
            // One scope per chunk, so each chunk's float64 copy is freed before the next is made.
            using var chunkScope = NewDisposeScope();
            var part = rows.detach().narrow(1, start, Math.Min(Chunk, p - start)).to_type(ScalarType.Float64);
            total.add_(part.matmul(part.t()));
        }
        var values = total.data<double>().ToArray();
        var gram = new double[k, k];
        for (var i = 0; i < k; i++)
        {
            for (var j = 0; j < k; j++)
            {
                gram[i, j] = values[i * k + j];
            }
        }
        return gram;
    }

    /// <summary>The i-th row of M·x.</summary>
    public static double RowDot(double[,] m, int i, IReadOnlyList<double> x)
    {
        var sum = 0.0;
        for (var j = 0; j < x.Count; j++)
        {
            sum += m[i, j] * x[j];
        }
        return sum;
    }

    /// <summary>xᵀ·M·y.</summary>
    public static double Quadratic(double[,] m, IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        var sum = 0.0;
        for (var i = 0; i < x.Count; i++)
        {
            sum += x[i] * RowDot(m, i, y);
        }
        return sum;
    }
}
