namespace MtlHost.Core.Sampling;

/// <summary>
/// Annealed sampling (Stickland and Murray 2019, as in MT-DNN and jiant): p_i ∝ n_i^α with α falling
/// linearly from 1 (proportional) at the first step to <see cref="FinalAlpha"/> at the last, so
/// training starts where the data is and ends closer to uniform, which helps the small tasks late on.
/// </summary>
public sealed class AnnealedTaskSampler : ProbabilityTaskSampler
{
    /// <summary>Creates the sampler.</summary>
    /// <param name="finalAlpha">α at the last step, 0 (uniform) to 1 (proportional); the paper's schedule ends at 0.2.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="finalAlpha"/> is outside [0, 1].</exception>
    public AnnealedTaskSampler(double finalAlpha = 0.2)
    {
        if (finalAlpha is < 0 or > 1 || double.IsNaN(finalAlpha))
        {
            throw new ArgumentOutOfRangeException(nameof(finalAlpha), finalAlpha, "The final annealing exponent must be between 0 and 1.");
        }
        FinalAlpha = finalAlpha;
    }

    /// <inheritdoc />
    public override string Name => "annealed";

    /// <summary>α at the last step.</summary>
    public double FinalAlpha { get; }

    /// <summary>α at a step.</summary>
    /// <param name="step">The step, zero-based.</param>
    /// <param name="totalSteps">Steps in the run.</param>
    /// <returns>α.</returns>
    public double Alpha(int step, int totalSteps)
    {
        var progress = totalSteps <= 1 ? 0.0 : Math.Clamp(step / (totalSteps - 1.0), 0.0, 1.0);
        return 1.0 - (1.0 - FinalAlpha) * progress;
    }

    /// <inheritdoc />
    public override double[] Weights(IReadOnlyList<int> taskSizes, int step, int totalSteps)
    {
        var alpha = Alpha(step, totalSteps);
        return taskSizes.Select(n => Math.Pow(Math.Max(1, n), alpha)).ToArray();
    }
}
