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
/// by Frank–Wolfe with an exact (golden-section) line search, where LibMTL calls SciPy's SLSQP; the
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
        GradientAlgebra.SetCombination(step, gradients, weights);
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

    /// <summary>min over the simplex of wᵀ·M·b + radius·√(wᵀ·M·w), by Frank–Wolfe from b (uniform).</summary>
    private static double[] Solve(double[,] gram, double[] b, double radius)
    {
        var k = b.Length;
        var w = (double[])b.Clone();
        var mb = Enumerable.Range(0, k).Select(i => GradientAlgebra.RowDot(gram, i, b)).ToArray();
        for (var iteration = 0; iteration < MaxIterations; iteration++)
        {
            var mw = Enumerable.Range(0, k).Select(i => GradientAlgebra.RowDot(gram, i, w)).ToArray();
            var wmw = Math.Max(mw.Select((v, i) => v * w[i]).Sum(), 0);
            var norm = Math.Sqrt(wmw);
            var gradient = Enumerable.Range(0, k).Select(i => mb[i] + (norm > 0 ? radius * mw[i] / norm : 0)).ToArray();
            var target = Array.IndexOf(gradient, gradient.Min());
            // Frank–Wolfe gap ∇F·(w − e_t): zero at the minimum.
            var gap = gradient.Select((g, i) => g * w[i]).Sum() - gradient[target];
            if (gap <= GapTolerance * (1 + Math.Abs(gradient.Max())))
            {
                break;
            }
            // Along w + γ(e_t − w): the linear part is p·γ, the quadratic form is A·γ² + B·γ + wᵀMw.
            var p = mb[target] - mb.Select((v, i) => v * w[i]).Sum();
            var a = gram[target, target] - 2 * mw[target] + wmw;
            var bLinear = 2 * (mw[target] - wmw);
            double Objective(double gamma) => p * gamma + radius * Math.Sqrt(Math.Max(a * gamma * gamma + bLinear * gamma + wmw, 0));
            var step = GoldenSection(Objective);
            for (var i = 0; i < k; i++)
            {
                w[i] = (1 - step) * w[i] + (i == target ? step : 0);
            }
        }
        return w;
    }

    /// <summary>The minimiser over [0, 1] of a convex function of one variable.</summary>
    private static double GoldenSection(Func<double, double> f)
    {
        var ratio = (Math.Sqrt(5) - 1) / 2;
        double lo = 0, hi = 1;
        var x1 = hi - ratio * (hi - lo);
        var x2 = lo + ratio * (hi - lo);
        double f1 = f(x1), f2 = f(x2);
        for (var i = 0; i < LineSearchIterations && hi - lo > 1e-15; i++)
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
        return new[] { 0.0, mid, 1.0 }.MinBy(f);
    }
}
