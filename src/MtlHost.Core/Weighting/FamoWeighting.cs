namespace MtlHost.Core.Weighting;

/// <summary>
/// FAMO: fast adaptive multitask optimization (Liu, Liu, Stone and Liu, "FAMO: Fast Adaptive
/// Multitask Optimization", NeurIPS 2023). Task logits ξ give z = softmax(ξ); the step minimises
/// Σ_i (z_i / c)·log L_i with c = Σ_j z_j / L_j, i.e. weighs loss i by z_i / (c·L_i) (the weights sum
/// to 1); the logits then follow the tasks' log-loss decrease δ_i = log L_i(before) − log L_i(after)
/// through g = J_softmax(ξ)ᵀ·δ, by Adam with learning rate 0.025 and weight decay γ = 0.01, so the
/// task whose loss falls slowest gains weight. One backward pass, O(1) extra memory per task.
/// </summary>
/// <remarks>
/// <para>
/// The official code (and LibMTL) re-evaluates the same batch after the optimizer step to get the
/// "after" losses: an extra forward pass, and a hook after the optimizer. Here, to keep one
/// <see cref="Backward"/> per step, the logits are updated at the start of the next step, with that
/// step's losses of the same tasks as the "after" losses: the update happens at the same point of the
/// sequence, but δ also carries the difference between two batches, so it is noisier; Adam's
/// averaging absorbs most of it. Only tasks that were trained in the immediately preceding step take
/// part in the update (a task that just joined or came back has no fresh "before" loss).
/// </para>
/// <para>
/// γ = 0.01 is the paper's and the official code's value (LibMTL defaults to 0.001).
/// Minimum losses are 0 (as the official default); a loss at or below 0 is treated as 1e-8, where
/// the official code would take the logarithm of a negative number. Gradient clipping (the official
/// max_norm 1.0) is the trainer's business. <see cref="NeedsEveryTask"/> is true: the softmax compares
/// the tasks of one step. State per task: the logit, its Adam moments, the last loss and its step (−1 before the first).
/// </para>
/// </remarks>
public sealed class FamoWeighting : ILossWeighting
{
    private const int Logit = 0, LastLoss = ScalarAdam.Slots, LastStep = ScalarAdam.Slots + 1;
    private const double Epsilon = 1e-8;

    private readonly TaskStateTable _state;
    private readonly double _learningRate;
    private readonly double _gamma;

    /// <summary>Creates the strategy.</summary>
    /// <param name="options">Settings (<see cref="WeightingOptions.LearningRate"/>, <see cref="WeightingOptions.FamoGamma"/>); null for the defaults.</param>
    public FamoWeighting(WeightingOptions? options = null)
    {
        options ??= WeightingOptions.Default;
        options.Validate();
        _learningRate = options.LearningRate;
        _gamma = options.FamoGamma;
        _state = new TaskStateTable(Name, [0, 0, 0, 0, 0, -1]);
    }

    /// <inheritdoc />
    public string Name => "famo";

    /// <inheritdoc />
    public bool NeedsEveryTask => true;

    /// <inheritdoc />
    public IReadOnlyList<double> Backward(WeightingStep step)
    {
        var losses = step.LossValues();
        var rows = step.TaskIds.Select(_state.Row).ToArray();
        UpdateLogits(rows, losses, step.Step);

        var z = WeightMath.Softmax(rows.Select(row => row[Logit]).ToArray());
        var d = losses.Select(Shifted).ToArray();
        var c = z.Select((zi, i) => zi / d[i]).Sum();
        var weights = z.Select((zi, i) => zi / (c * d[i])).ToArray();
        step.BackwardWeighted(weights);

        for (var i = 0; i < rows.Length; i++)
        {
            rows[i][LastLoss] = losses[i];
            rows[i][LastStep] = step.Step;
        }
        return weights;
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, double[]> GetState() => _state.Snapshot();

    /// <inheritdoc />
    public void SetState(IReadOnlyDictionary<string, double[]> state) => _state.Restore(state);

    private void UpdateLogits(double[][] rows, IReadOnlyList<double> losses, int step)
    {
        var updated = Enumerable.Range(0, rows.Length).Where(i => rows[i][LastStep] >= 0 && rows[i][LastStep] == step - 1).ToArray();
        if (updated.Length == 0)
        {
            return;
        }
        var delta = updated.Select(i => Math.Log(Shifted(rows[i][LastLoss])) - Math.Log(Shifted(losses[i]))).ToArray();
        var z = WeightMath.Softmax(updated.Select(i => rows[i][Logit]).ToArray());
        // Jᵀδ of the softmax: z_j·(δ_j − Σ_k z_k·δ_k).
        var mean = z.Select((zk, k) => zk * delta[k]).Sum();
        for (var j = 0; j < updated.Length; j++)
        {
            ScalarAdam.Step(rows[updated[j]], Logit, z[j] * (delta[j] - mean), _learningRate, _gamma);
        }
    }

    private static double Shifted(double loss) => Math.Max(loss, 0) + Epsilon;
}
