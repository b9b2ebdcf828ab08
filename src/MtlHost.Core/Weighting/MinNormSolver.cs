namespace MtlHost.Core.Weighting;

/// <summary>
/// The min-norm point of the convex hull of K vectors given by their Gram matrix M:
/// argmin over the simplex of αᵀMα, by Frank–Wolfe with exact line search (Sener and Koltun 2018,
/// Algorithms 1 and 2), with away steps.
/// </summary>
/// <remarks>
/// Differs from the paper's plain Frank–Wolfe (and from its code, which LibMTL copies) on purpose:
/// away steps (Lacoste-Julien and Jaggi, "On the Global Linear Convergence of Frank-Wolfe
/// Optimization Variants", NeurIPS 2015) make it converge linearly, so a task whose weight is 0 at
/// the min-norm point gets 0 instead of about 1/iterations. Like the paper, it starts from the
/// uniform point (the code starts from the best pair), and a step is clipped to its segment exactly
/// (the code's two-point solution is clipped to [0.001, 0.999], which never gives the exact min-norm
/// point of colinear gradients). Heads here get their own gradients whatever the weights, so a task
/// weight of 0 starves no head.
/// </remarks>
internal static class MinNormSolver
{
    private const int MaxIterations = 1000;
    private const double RelativeTolerance = 1e-12;

    /// <summary>The weights α (non-negative, summing to 1) of the min-norm point.</summary>
    public static double[] Solve(double[,] gram)
    {
        var k = gram.GetLength(0);
        var alpha = Enumerable.Repeat(1.0 / k, k).ToArray();
        var scale = Enumerable.Range(0, k).Max(i => Math.Abs(gram[i, i]));
        if (k == 1 || scale == 0)
        {
            return alpha;
        }
        for (var iteration = 0; iteration < MaxIterations; iteration++)
        {
            var m = Enumerable.Range(0, k).Select(i => GradientAlgebra.RowDot(gram, i, alpha)).ToArray();
            var q = m.Select((v, i) => v * alpha[i]).Sum();
            // Toward the vertex that lowers αᵀMα fastest, or away from the worst vertex in use.
            var toward = Array.IndexOf(m, m.Min());
            var away = Enumerable.Range(0, k).Where(i => alpha[i] > 0).MaxBy(i => m[i]);
            var towardGap = q - m[toward];
            var awayGap = m[away] - q;
            if (towardGap <= RelativeTolerance * scale)
            {
                break;
            }
            double slope, curvature, maxStep;
            var isToward = towardGap >= awayGap;
            if (isToward)
            {
                // d = e_t − α.
                slope = m[toward] - q;
                curvature = gram[toward, toward] - 2 * m[toward] + q;
                maxStep = 1;
            }
            else
            {
                // d = α − e_a, as far as α_a reaching 0.
                slope = q - m[away];
                curvature = gram[away, away] - 2 * m[away] + q;
                maxStep = alpha[away] / (1 - alpha[away]);
            }
            // Exact minimum of q + 2γ·slope + γ²·curvature on [0, maxStep].
            var gamma = curvature > 0 ? Math.Clamp(-slope / curvature, 0, maxStep) : maxStep;
            for (var i = 0; i < k; i++)
            {
                alpha[i] = isToward
                    ? (1 - gamma) * alpha[i] + (i == toward ? gamma : 0)
                    : (1 + gamma) * alpha[i] - (i == away ? gamma : 0);
            }
            if (!isToward && gamma == maxStep)
            {
                // A drop step: the away vertex leaves the support exactly, not up to rounding.
                alpha[away] = 0;
            }
        }
        return alpha;
    }
}
