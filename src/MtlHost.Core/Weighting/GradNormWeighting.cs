using static TorchSharp.torch;

namespace MtlHost.Core.Weighting;

/// <summary>
/// GradNorm: gradient normalization (Chen, Badrinarayanan, Lee and Rabinovich, "GradNorm: Gradient
/// Normalization for Adaptive Loss Balancing in Deep Multitask Networks", ICML 2018). Task weights w_i
/// are learned so that each weighted gradient norm G_i = w_i·‖∇L_i‖ approaches
/// mean_j(G_j)·r_i^α, with r_i = L̃_i / mean_j(L̃_j) and L̃_i = L_i(t) / L_i(0) (the inverse training
/// rate), α = 1.5; the loss on the weights is Σ_i |G_i − target_i| with the target held constant.
/// One backward pass per task.
/// </summary>
/// <remarks>
/// <para>
/// Follows LibMTL where it differs from the paper: the weights are w = K·softmax(ξ) of learned logits
/// ξ (the paper updates w directly and renormalises them to sum to K, which can turn negative), the
/// norms are over all shared parameters (the paper uses the last shared layer; LibMTL and this host
/// have no single such layer), and heads get their own plain gradients. Unlike LibMTL, which
/// trains with EW for its first epoch to average L(0) over it, L_i(0) is the task's first loss seen
/// (the paper's t = 0), and GradNorm acts from the first step. ξ is updated after the step's weights
/// are used, by a small Adam in doubles (<see cref="WeightingOptions.LearningRate"/>) on the analytic
/// gradient ∂/∂ξ_j = K·z_j·(q_j − Σ_i z_i·q_i), q_i = sign(G_i − target_i)·‖∇L_i‖.
/// </para>
/// <para>
/// A task that joins starts at logit 0 and takes its first loss as L(0). State per task: the logit,
/// its Adam moments, L(0).
/// </para>
/// </remarks>
public sealed class GradNormWeighting : ILossWeighting
{
    private const int Logit = 0, InitialLoss = ScalarAdam.Slots;

    private readonly TaskStateTable _state;
    private readonly double _alpha;
    private readonly double _learningRate;

    /// <summary>Creates the strategy.</summary>
    /// <param name="options">Settings (<see cref="WeightingOptions.GradNormAlpha"/>, <see cref="WeightingOptions.LearningRate"/>); null for the defaults.</param>
    public GradNormWeighting(WeightingOptions? options = null)
    {
        options ??= WeightingOptions.Default;
        options.Validate();
        _alpha = options.GradNormAlpha;
        _learningRate = options.LearningRate;
        _state = new TaskStateTable(Name, [0, 0, 0, 0, 0]);
    }

    /// <inheritdoc />
    public string Name => "gradnorm";

    /// <inheritdoc />
    public bool NeedsEveryTask => true;

    /// <inheritdoc />
    public IReadOnlyList<double> Backward(WeightingStep step)
    {
        var k = step.Count;
        var losses = step.LossValues();
        var rows = new double[k][];
        for (var i = 0; i < k; i++)
        {
            var isNew = !_state.Contains(step.TaskIds[i]);
            rows[i] = _state.Row(step.TaskIds[i]);
            if (isNew)
            {
                rows[i][InitialLoss] = losses[i];
            }
        }
        var z = WeightMath.Softmax(rows.Select(row => row[Logit]).ToArray());
        var weights = z.Select(zi => k * zi).ToArray();

        double[,] gram;
        using (var scope = NewDisposeScope())
        {
            var gradients = step.SharedGradients();
            gram = GradientAlgebra.Gram(gradients);
            step.SetSharedCombination(gradients, weights);
        }

        var norms = Enumerable.Range(0, k).Select(i => Math.Sqrt(Math.Max(gram[i, i], 0))).ToArray();
        var rates = Enumerable.Range(0, k).Select(i => rows[i][InitialLoss] > 0 ? losses[i] / rows[i][InitialLoss] : 1.0).ToArray();
        var meanRate = rates.Average();
        var meanNorm = Enumerable.Range(0, k).Select(i => weights[i] * norms[i]).Average();
        var q = Enumerable.Range(0, k)
            .Select(i => Math.Sign(weights[i] * norms[i] - meanNorm * Math.Pow(meanRate > 0 ? rates[i] / meanRate : 1.0, _alpha)) * norms[i])
            .ToArray();
        var zq = z.Select((zi, i) => zi * q[i]).Sum();
        for (var j = 0; j < k; j++)
        {
            ScalarAdam.Step(rows[j], Logit, k * z[j] * (q[j] - zq), _learningRate);
        }
        return weights;
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, double[]> GetState() => _state.Snapshot();

    /// <inheritdoc />
    public void SetState(IReadOnlyDictionary<string, double[]> state) => _state.Restore(state);
}
