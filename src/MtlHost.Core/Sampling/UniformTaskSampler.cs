namespace MtlHost.Core.Sampling;

/// <summary>Every live task is equally likely (p_i = 1/K), whatever its size.</summary>
public sealed class UniformTaskSampler : ProbabilityTaskSampler
{
    /// <inheritdoc />
    public override string Name => "uniform";

    /// <inheritdoc />
    public override double[] Weights(IReadOnlyList<int> taskSizes, int step, int totalSteps) =>
        Enumerable.Repeat(1.0, taskSizes.Count).ToArray();
}
