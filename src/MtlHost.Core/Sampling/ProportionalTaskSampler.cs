namespace MtlHost.Core.Sampling;

/// <summary>A task is sampled in proportion to its number of training examples (p_i ∝ n_i), so every example is seen about equally often.</summary>
public sealed class ProportionalTaskSampler : ProbabilityTaskSampler
{
    /// <inheritdoc />
    public override string Name => "proportional";

    /// <inheritdoc />
    public override double[] Weights(IReadOnlyList<int> taskSizes, int step, int totalSteps) =>
        taskSizes.Select(n => (double)Math.Max(1, n)).ToArray();
}
