namespace MtlHost.Core.Sampling;

/// <summary>Settings of the task samplers (configuration section <c>Sampling</c>).</summary>
public sealed record SamplerOptions
{
    /// <summary>T of the <c>temperature</c> sampler (default 2: between proportional and uniform).</summary>
    public double Temperature { get; init; } = 2.0;

    /// <summary>Largest training-set size the <c>temperature</c> sampler counts per task; <see langword="null"/> for none.</summary>
    public int? Cap { get; init; }

    /// <summary>α at the last step of the <c>annealed</c> sampler.</summary>
    public double FinalAlpha { get; init; } = 0.2;
}
