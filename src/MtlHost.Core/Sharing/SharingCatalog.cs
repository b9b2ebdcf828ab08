namespace MtlHost.Core.Sharing;

/// <summary>The sharing strategies the host can build by name (<c>--sharing</c>).</summary>
public static class SharingCatalog
{
    /// <summary>The default strategy's name.</summary>
    public const string DefaultName = HardSharing.StrategyName;

    /// <summary>Known names, the default first.</summary>
    public static IReadOnlyList<string> Names { get; } = [HardSharing.StrategyName, TopLayerSharing.StrategyName, AdapterSharing.StrategyName];

    /// <summary>
    /// Builds a strategy.
    /// </summary>
    /// <param name="name">A strategy name, case-insensitive.</param>
    /// <param name="options">Settings; each strategy reads the ones it needs.</param>
    /// <returns>The strategy.</returns>
    /// <exception cref="ArgumentException">The name is unknown (the message lists the known ones), or a setting is out of range.</exception>
    public static ISharingStrategy Create(string name, SharingOptions options)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(options);
        return name.Trim().ToLowerInvariant() switch
        {
            HardSharing.StrategyName => new HardSharing(),
            TopLayerSharing.StrategyName => new TopLayerSharing(options.SharedLayers),
            AdapterSharing.StrategyName => new AdapterSharing(options.AdapterSize),
            _ => throw new ArgumentException(
                $"--sharing {name}: unknown sharing strategy; use one of {string.Join(", ", Names)}.", nameof(name)),
        };
    }
}
