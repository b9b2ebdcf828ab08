namespace MtlHost.Core.Sampling;

/// <summary>The task samplers by name.</summary>
public static class SamplerCatalog
{
    /// <summary>The sampler a run uses unless told otherwise.</summary>
    public const string Default = "proportional";

    /// <summary>The name of the sampler that gives every step every task.</summary>
    public const string AllTasks = "all-tasks";

    /// <summary>Every known name.</summary>
    public static IReadOnlyList<string> Names { get; } = ["uniform", "proportional", "temperature", "annealed", AllTasks];

    /// <summary>Creates a sampler by name (case-insensitive).</summary>
    /// <param name="name">One of <see cref="Names"/>.</param>
    /// <param name="options">Its settings.</param>
    /// <returns>The sampler.</returns>
    /// <exception cref="ArgumentException">The name is not known.</exception>
    public static ITaskSampler Create(string name, SamplerOptions options) => name.Trim().ToLowerInvariant() switch
    {
        "uniform" => new UniformTaskSampler(),
        "proportional" => new ProportionalTaskSampler(),
        "temperature" => new TemperatureTaskSampler(options.Temperature, options.Cap),
        "annealed" => new AnnealedTaskSampler(options.FinalAlpha),
        AllTasks => new AllTasksSampler(),
        _ => throw new ArgumentException($"Sampler '{name}' is not known; use one of {string.Join(", ", Names)}.", nameof(name)),
    };
}
