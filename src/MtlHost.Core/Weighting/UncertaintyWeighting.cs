namespace MtlHost.Core.Weighting;

/// <summary>
/// UW: homoscedastic-uncertainty weighting (Kendall, Gal and Cipolla, "Multi-Task Learning Using
/// Uncertainty to Weigh Losses for Scene Geometry and Semantics", CVPR 2018). Each task has a learned
/// log-variance s_i and the objective is Σ_i L_i / (2·e^{s_i}) + s_i / 2, so a task's weight is
/// 1 / (2·e^{s_i}); one backward pass.
/// </summary>
/// <remarks>
/// <para>
/// The paper weighs classification losses by 1/σ² and regression losses by 1/(2σ²); this follows
/// LibMTL, which uses 1/(2σ²) and the term s/2 for every task, and starts s at LibMTL's −0.5
/// (weight ≈ 0.82). LibMTL trains s with the model's optimizer; here s is updated by a small Adam in
/// doubles with <see cref="WeightingOptions.LearningRate"/>, from its analytic gradient
/// ∂/∂s = −L/(2·e^s) + 1/2 (<see cref="LogVarianceGradient"/>), after the weights of the step are used
/// (as LibMTL's optimizer step does).
/// </para>
/// <para>
/// Every task's weight depends on its own loss only, so any sampler works:
/// <see cref="NeedsEveryTask"/> is false. State per task: s and its Adam moments.
/// </para>
/// </remarks>
public sealed class UncertaintyWeighting : ILossWeighting
{
    /// <summary>The initial log-variance (LibMTL's).</summary>
    public const double InitialLogVariance = -0.5;

    private readonly TaskStateTable _state;
    private readonly double _learningRate;

    /// <summary>Creates the strategy.</summary>
    /// <param name="options">Settings (<see cref="WeightingOptions.LearningRate"/>); null for the defaults.</param>
    public UncertaintyWeighting(WeightingOptions? options = null)
    {
        options ??= WeightingOptions.Default;
        options.Validate();
        _learningRate = options.LearningRate;
        _state = new TaskStateTable(Name, [InitialLogVariance, 0, 0, 0]);
    }

    /// <inheritdoc />
    public string Name => "uw";

    /// <inheritdoc />
    public bool NeedsEveryTask => false;

    /// <summary>The gradient of L/(2·e^s) + s/2 with respect to s.</summary>
    /// <param name="loss">The task's loss L.</param>
    /// <param name="logVariance">Its log-variance s.</param>
    /// <returns>−L/(2·e^s) + 1/2.</returns>
    public static double LogVarianceGradient(double loss, double logVariance) => -loss / (2 * Math.Exp(logVariance)) + 0.5;

    /// <inheritdoc />
    public IReadOnlyList<double> Backward(WeightingStep step)
    {
        var losses = step.LossValues();
        var rows = step.TaskIds.Select(_state.Row).ToArray();
        var weights = rows.Select(row => 1 / (2 * Math.Exp(row[0]))).ToArray();
        step.BackwardWeighted(weights);
        for (var i = 0; i < rows.Length; i++)
        {
            ScalarAdam.Step(rows[i], 0, LogVarianceGradient(losses[i], rows[i][0]), _learningRate);
        }
        return weights;
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, double[]> GetState() => _state.Snapshot();

    /// <inheritdoc />
    public void SetState(IReadOnlyDictionary<string, double[]> state) => _state.Restore(state);
}
