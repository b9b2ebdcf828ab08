using static TorchSharp.torch;

namespace MtlHost.Core.Weighting;

/// <summary>
/// MGDA: the multiple-gradient descent algorithm as multi-objective optimisation (Sener and Koltun,
/// "Multi-Task Learning as Multi-Objective Optimization", NeurIPS 2018). The shared gradient is the
/// min-norm point Σ_i α_i·g_i of the convex hull of the task gradients (α on the simplex, found by
/// Frank–Wolfe on the K×K Gram matrix in doubles). One backward pass per task; with MGDA-UB
/// (<see cref="WeightingOptions.MgdaUpperBound"/>) α is found from the gradients with respect to the
/// shared representation instead, and then a single weighted backward pass runs.
/// </summary>
/// <remarks>
/// <para>
/// The gradients may be scaled before solving (<see cref="WeightingOptions.MgdaNormalization"/>, none
/// by default as in the paper and LibMTL). α is then applied to the raw losses' gradients, as in Sener
/// and Koltun's code; LibMTL applies it to the scaled gradients instead (the two agree without
/// scaling). Heads get their own plain gradients in both modes (LibMTL's choice; the authors' code
/// scales heads by α too): in MGDA-UB through <see cref="WeightingStep.BackwardThroughRepresentations"/>.
/// The representation gradients are summed over the batch and the token positions, since tasks
/// have their own inputs. See <see cref="MinNormSolver"/> for where the solver follows the paper
/// rather than the code.
/// </para>
/// <para>Nothing is learned. <see cref="NeedsEveryTask"/> is true.</para>
/// </remarks>
public sealed class MgdaWeighting : ILossWeighting
{
    private readonly MgdaNormalization _normalization;
    private readonly bool _upperBound;

    /// <summary>Creates the strategy.</summary>
    /// <param name="options">Settings (<see cref="WeightingOptions.MgdaNormalization"/>, <see cref="WeightingOptions.MgdaUpperBound"/>); null for the defaults.</param>
    public MgdaWeighting(WeightingOptions? options = null)
    {
        options ??= WeightingOptions.Default;
        options.Validate();
        _normalization = options.MgdaNormalization;
        _upperBound = options.MgdaUpperBound;
    }

    /// <inheritdoc />
    public string Name => "mgda";

    /// <inheritdoc />
    public bool NeedsEveryTask => true;

    /// <inheritdoc />
    public IReadOnlyList<double> Backward(WeightingStep step)
    {
        using var scope = NewDisposeScope();
        if (_upperBound)
        {
            if (step.Representations.Count == 0)
            {
                throw new InvalidOperationException(
                    "MGDA-UB needs each task's shared representation, and this step carries none; turn MgdaUpperBound off or pass the representations.");
            }
            var weights = Solve(GradientAlgebra.Gram(step.RepresentationGradients()), step.LossValues());
            step.BackwardThroughRepresentations(weights);
            return weights;
        }
        var gradients = step.SharedGradients();
        var alpha = Solve(GradientAlgebra.Gram(gradients), step.LossValues());
        step.SetSharedCombination(gradients, alpha);
        return alpha;
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, double[]> GetState() => TaskStateTable.Empty;

    /// <inheritdoc />
    public void SetState(IReadOnlyDictionary<string, double[]> state) => TaskStateTable.RequireEmpty(Name, state);

    private double[] Solve(double[,] gram, IReadOnlyList<double> losses)
    {
        var k = gram.GetLength(0);
        var scale = new double[k];
        for (var i = 0; i < k; i++)
        {
            var norm = Math.Sqrt(Math.Max(gram[i, i], 0));
            var s = _normalization switch
            {
                MgdaNormalization.L2 => norm,
                MgdaNormalization.Loss => losses[i],
                MgdaNormalization.LossPlus => losses[i] * norm,
                _ => 1.0,
            };
            // A zero or undefined scale (a zero gradient, a zero loss) would divide by zero; leave that gradient as it is.
            scale[i] = s > 0 && double.IsFinite(s) ? s : 1.0;
        }
        var scaled = new double[k, k];
        for (var i = 0; i < k; i++)
        {
            for (var j = 0; j < k; j++)
            {
                scaled[i, j] = gram[i, j] / (scale[i] * scale[j]);
            }
        }
        return MinNormSolver.Solve(scaled);
    }
}
