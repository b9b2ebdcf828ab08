namespace MtlHost.Core.Sampling;

/// <summary>
/// Temperature sampling, p_i ∝ min(n_i, cap)^(1/T): T = 1 is proportional, larger T flattens toward
/// uniform and so gives small tasks more steps (Arivazhagan et al. 2019); the optional cap is T5's
/// examples-proportional mixing limit (Raffel et al. 2020), so one huge task cannot take every step.
/// </summary>
public sealed class TemperatureTaskSampler : ProbabilityTaskSampler
{
    /// <summary>Creates the sampler.</summary>
    /// <param name="temperature">T, above 0.</param>
    /// <param name="cap">Largest size counted per task, or <see langword="null"/> for none.</param>
    /// <exception cref="ArgumentOutOfRangeException">T is not above 0, or the cap is below 1.</exception>
    public TemperatureTaskSampler(double temperature, int? cap = null)
    {
        if (!(temperature > 0) || !double.IsFinite(temperature))
        {
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "The sampling temperature must be a number above 0.");
        }
        if (cap is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(cap), cap, "The per-task size cap must be at least 1.");
        }
        Temperature = temperature;
        Cap = cap;
    }

    /// <inheritdoc />
    public override string Name => "temperature";

    /// <summary>T.</summary>
    public double Temperature { get; }

    /// <summary>Largest size counted per task.</summary>
    public int? Cap { get; }

    /// <inheritdoc />
    public override double[] Weights(IReadOnlyList<int> taskSizes, int step, int totalSteps) =>
        taskSizes.Select(n => Math.Pow(Math.Max(1, Math.Min(n, Cap ?? int.MaxValue)), 1.0 / Temperature)).ToArray();
}
