namespace MtlHost.Core.Weighting;

/// <summary>The weighting strategies by name, for configuration and the command line.</summary>
public static class WeightingCatalog
{
    private static readonly (string Name, Func<WeightingOptions, ILossWeighting> Create)[] Entries =
    [
        ("ew", _ => new EqualWeighting()),
        ("uw", o => new UncertaintyWeighting(o)),
        ("dwa", o => new DynamicWeightAverage(o)),
        ("rlw", _ => new RandomLossWeighting()),
        ("famo", o => new FamoWeighting(o)),
        ("gradnorm", o => new GradNormWeighting(o)),
        ("pcgrad", _ => new PCGradWeighting()),
        ("mgda", o => new MgdaWeighting(o)),
        ("cagrad", o => new CAGradWeighting(o)),
    ];

    /// <summary>The known names, loss-based first.</summary>
    public static IReadOnlyList<string> Names { get; } = Entries.Select(e => e.Name).ToArray();

    /// <summary>Creates the strategy with that name (case-insensitive).</summary>
    /// <param name="name">A name from <see cref="Names"/>.</param>
    /// <param name="options">Its settings; null for the defaults.</param>
    /// <returns>A new strategy with no learned state.</returns>
    /// <exception cref="ArgumentException">The name is unknown (the message lists the known ones), or an option is out of range.</exception>
    public static ILossWeighting Create(string name, WeightingOptions? options = null)
    {
        options ??= WeightingOptions.Default;
        options.Validate();
        foreach (var entry in Entries)
        {
            if (string.Equals(entry.Name, name?.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                return entry.Create(options);
            }
        }
        throw new ArgumentException($"Unknown weighting '{name}'. Known weightings: {string.Join(", ", Names)}.", nameof(name));
    }
}
