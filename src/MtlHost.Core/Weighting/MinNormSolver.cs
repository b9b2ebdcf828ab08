namespace MtlHost.Core.Weighting;

/// <summary>
/// The min-norm point of the convex hull of K vectors given by their Gram matrix M:
/// argmin over the simplex of αᵀMα, by Frank–Wolfe with the exact two-point line search
/// (Sener and Koltun 2018, Algorithms 1 and 2).
/// </summary>
/// <remarks>
/// Follows the paper, not its code (copied by LibMTL) in two places: it starts from the uniform
/// point (the code starts from the best pair), and the two-point solution is clipped to [0, 1]
/// exactly (the code clips to [0.001, 0.999], which never gives the exact min-norm point of
/// colinear gradients). Heads here get their own gradients whatever the weights, so a task weight
/// of 0 starves no head.
/// </remarks>
internal static class MinNormSolver
{
    private const int MaxIterations = 1000;
    private const double Tolerance = 1e-10;

    /// <summary>The weights α (non-negative, summing to 1) of the min-norm point.</summary>
    public static double[] Solve(double[,] gram)
    {
        var k = gram.GetLength(0);
        var alpha = Enumerable.Repeat(1.0 / k, k).ToArray();
        if (k == 1)
        {
            return alpha;
        }
        for (var iteration = 0; iteration < MaxIterations; iteration++)
        {
            // The vertex that decreases αᵀMα fastest: argmin_t (Mα)_t.
            var target = 0;
            var best = double.PositiveInfinity;
            for (var t = 0; t < k; t++)
            {
                var value = GradientAlgebra.RowDot(gram, t, alpha);
                if (value < best)
                {
                    best = value;
                    target = t;
                }
            }
            var gamma = TwoPoint(GradientAlgebra.Quadratic(gram, alpha, alpha), best, gram[target, target]);
            var change = 0.0;
            for (var t = 0; t < k; t++)
            {
                var next = gamma * alpha[t] + (t == target ? 1 - gamma : 0);
                change += Math.Abs(next - alpha[t]);
                alpha[t] = next;
            }
            if (change < Tolerance)
            {
                break;
            }
        }
        return alpha;
    }

    /// <summary>
    /// argmin over γ ∈ [0, 1] of ‖γ·v1 + (1 − γ)·v2‖², from v1·v1, v1·v2 and v2·v2 (the paper's Algorithm 1).
    /// </summary>
    public static double TwoPoint(double v1v1, double v1v2, double v2v2)
    {
        var denominator = v1v1 + v2v2 - 2 * v1v2;
        if (denominator <= 0)
        {
            // v1 = v2: every γ gives the same point; keep v1.
            return 1;
        }
        return Math.Clamp((v2v2 - v1v2) / denominator, 0, 1);
    }
}
