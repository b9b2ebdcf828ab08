namespace MtlHost.Core.Weighting;

/// <summary>
/// RLW: random loss weighting (Lin et al., "Reasonable Effectiveness of Random Weighting: A Litmus
/// Test for Multi-Task Learning", TMLR 2022). Each step draws z_i ~ N(0, 1) from the step's seeded
/// random source and weighs the losses by softmax(z); one backward pass.
/// </summary>
/// <remarks>
/// Follows the paper's normal-distribution variant, which is also LibMTL's: the weights sum to 1, so
/// the combined loss is on the scale of the mean loss, not of EW's sum. Draws come from
/// <see cref="WeightingStep.Random"/> (Box–Muller), so a seed reproduces them. Nothing is learned.
/// <see cref="NeedsEveryTask"/> is false: with one task per step its weight is 1 and the sampler is
/// already the random mixing, which is the method's point; nothing breaks with any sampler.
/// </remarks>
public sealed class RandomLossWeighting : ILossWeighting
{
    /// <inheritdoc />
    public string Name => "rlw";

    /// <inheritdoc />
    public bool NeedsEveryTask => false;

    /// <inheritdoc />
    public IReadOnlyList<double> Backward(WeightingStep step)
    {
        var draws = Enumerable.Range(0, step.Count).Select(_ => StandardNormal(step.Random)).ToArray();
        var weights = WeightMath.Softmax(draws);
        step.BackwardWeighted(weights);
        return weights;
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, double[]> GetState() => TaskStateTable.Empty;

    /// <inheritdoc />
    public void SetState(IReadOnlyDictionary<string, double[]> state) => TaskStateTable.RequireEmpty(Name, state);

    private static double StandardNormal(Random random)
    {
        // Box–Muller; 1 − U keeps the logarithm's argument in (0, 1].
        var u1 = 1.0 - random.NextDouble();
        var u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }
}
