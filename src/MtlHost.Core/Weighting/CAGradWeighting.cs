using static TorchSharp.torch;

namespace MtlHost.Core.Weighting;

/// <summary>
/// CAGrad: conflict-averse gradient descent (Liu, Liu, Jin, Stone and Liu, "Conflict-Averse Gradient
/// Descent for Multi-task Learning", NeurIPS 2021). With g0 the mean task gradient and
/// c' = c·‖g0‖, it solves the dual min over the simplex of w of g_wᵀg0 + c'·‖g_w‖ (g_w = Σ_i w_i·g_i),
/// and steps along d = g0 + (c' / ‖g_w‖)·g_w, rescaled by 1 / (1 + c²); c = 0.5. One backward pass
/// per task.
/// </summary>
/// <remarks>
/// As LibMTL (rescale = 1). The K-dimensional problem is solved in doubles on the K×K Gram matrix,
/// by Frank–Wolfe with away steps and an exact (golden-section) line search, where LibMTL calls SciPy's SLSQP; the
/// objective is convex, so both find the same minimum. <see cref="Backward"/> returns the effective
/// weights β_i = (1/K + (c'/‖g_w‖)·w_i) / (1 + c²), d = Σ_i β_i·g_i; LibMTL returns w. Like the
/// paper, d is on the scale of the mean gradient, 1/K of EW's sum. Heads get their own gradients.
/// Nothing is learned.
/// </remarks>
public sealed class CAGradWeighting : ILossWeighting
{
    private const int MaxIterations = 2000;
    private const int LineSearchIterations = 100;
    private const double GapTolerance = 1e-12;

    private readonly double _c;

    /// <summary>Creates the strategy.</summary>
    /// <param name="options">Settings (<see cref="WeightingOptions.CAGradC"/>); null for the defaults.</param>
    public CAGradWeighting(WeightingOptions? options = null)
    {
        options ??= WeightingOptions.Default;
        options.Validate();
        _c = options.CAGradC;
    }

    /// <inheritdoc />
    public string Name => "cagrad";

    /// <inheritdoc />
    public bool NeedsEveryTask => true;

    /// <inheritdoc />
    public IReadOnlyList<double> Backward(WeightingStep step)
    {
        using var scope = NewDisposeScope();
        var gradients = step.SharedGradients();
        var weights = Weights(GradientAlgebra.Gram(gradients));
        step.SetSharedCombination(gradients, weights);
        return weights;
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, double[]> GetState() => TaskStateTable.Empty;

    /// <inheritdoc />
    public void SetState(IReadOnlyDictionary<string, double[]> state) => TaskStateTable.RequireEmpty(Name, state);

    private double[] Weights(double[,] gram)
    {
        var k = gram.GetLength(0);
        var mean = Enumerable.Repeat(1.0 / k, k).ToArray();
        var radius = _c * Math.Sqrt(Math.Max(GradientAlgebra.Quadratic(gram, mean, mean), 0));
        var w = radius > 0 ? Solve(gram, mean, radius) : mean;
        var gwNorm = Math.Sqrt(Math.Max(GradientAlgebra.Quadratic(gram, w, w), 0));
        // A zero g_w adds nothing to the direction, whatever its factor.
        var lambda = gwNorm > 0 ? radius / gwNorm : 0;
        return Enumerable.Range(0, k).Select(i => (mean[i] + lambda * w[i]) / (1 + _c * _c)).ToArray();
    }

    /// <summary>
    /// min over the simplex of wᵀ·M·b + radius·√(wᵀ·M·w), by Frank–Wolfe with away steps (as
    /// <see cref="MinNormSolver"/>, so weights that are 0 at the minimum come out 0) from b (uniform).
    /// </summary>
    private static double[] Solve(double[,] gram, double[] b, double radius)
    {
        var k = b.Length;
        var w = (double[])b.Clone();
        var mb = Enumerable.Range(0, k).Select(i => GradientAlgebra.RowDot(gram, i, b)).ToArray();
        var scale = Enumerable.Range(0, k).Max(i => Math.Abs(gram[i, i]));
        for (var iteration = 0; iteration < MaxIterations; iteration++)
        {
            var mw = Enumerable.Range(0, k).Select(i => GradientAlgebra.RowDot(gram, i, w)).ToArray();
            var wmw = Math.Max(mw.Select((v, i) => v * w[i]).Sum(), 0);
            var wmb = mb.Select((v, i) => v * w[i]).Sum();
            var norm = Math.Sqrt(wmw);
            var gradient = Enumerable.Range(0, k).Select(i => mb[i] + (norm > 0 ? radius * mw[i] / norm : 0)).ToArray();
            var gw = gradient.Select((g, i) => g * w[i]).Sum();
            var toward = Array.IndexOf(gradient, gradient.Min());
            var away = Enumerable.Range(0, k).Where(i => w[i] > 0).MaxBy(i => gradient[i]);
            var towardGap = gw - gradient[toward];
            if (towardGap <= GapTolerance * scale)
            {
                break;
            }
            var isToward = towardGap >= gradient[away] - gw;
            // Along w + γ·d: the linear part is p·γ, the quadratic form wᵀMw + 2γ·dᵀMw + γ²·dᵀMd.
            double p, dMw, dMd, maxStep;
            if (isToward)
            {
                // d = e_t − w.
                p = mb[toward] - wmb;
                dMw = mw[toward] - wmw;
                dMd = gram[toward, toward] - 2 * mw[toward] + wmw;
                maxStep = 1;
            }
            else
            {
                // d = w − e_a, as far as w_a reaching 0.
                p = wmb - mb[away];
                dMw = wmw - mw[away];
                dMd = gram[away, away] - 2 * mw[away] + wmw;
                maxStep = w[away] / (1 - w[away]);
            }
            double Objective(double gamma) => p * gamma + radius * Math.Sqrt(Math.Max(wmw + 2 * gamma * dMw + gamma * gamma * dMd, 0));
            var step = GoldenSection(Objective, maxStep);
            for (var i = 0; i < k; i++)
            {
                w[i] = isToward
                    ? (1 - step) * w[i] + (i == toward ? step : 0)
                    : (1 + step) * w[i] - (i == away ? step : 0);
            }
            if (!isToward && step == maxStep)
            {
                // A drop step: the away vertex leaves the support exactly, not up to rounding.
                w[away] = 0;
            }
        }
        return w;
    }

    /// <summary>The minimiser over [0, <paramref name="end"/>] of a convex function of one variable.</summary>
    private static double GoldenSection(Func<double, double> f, double end)
    {
        var ratio = (Math.Sqrt(5) - 1) / 2;
        double lo = 0, hi = end;
        var x1 = hi - ratio * (hi - lo);
        var x2 = lo + ratio * (hi - lo);
        double f1 = f(x1), f2 = f(x2);
        for (var i = 0; i < LineSearchIterations && hi - lo > 1e-15 * end; i++)
        {
            if (f1 <= f2)
            {
                hi = x2;
                x2 = x1;
                f2 = f1;
                x1 = hi - ratio * (hi - lo);
                f1 = f(x1);
            }
            else
            {
                lo = x1;
                x1 = x2;
                f1 = f2;
                x2 = lo + ratio * (hi - lo);
                f2 = f(x2);
            }
        }
        var mid = (lo + hi) / 2;
        // The ends are candidates too: golden section never evaluates them.
        return new[] { 0.0, mid, end }.MinBy(f);
    }
}
