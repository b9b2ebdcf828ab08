namespace MtlHost.Cli;

/// <summary>One command-line option: its name, where its value goes in configuration, and what values it takes.</summary>
/// <param name="Name">Name without the leading dashes.</param>
/// <param name="ConfigurationKey">Configuration key the value is written to; <see langword="null"/> for options the command reads itself.</param>
/// <param name="Kind">Value type.</param>
/// <param name="Help">One-line description.</param>
/// <param name="Allowed">Accepted values for <see cref="OptionKind.Choice"/> (case-insensitive).</param>
public sealed record OptionSpec(string Name, string? ConfigurationKey, OptionKind Kind, string Help, IReadOnlyList<string>? Allowed = null)
{
    /// <summary>What usage shows for the value (<c>DIR</c>, <c>FILE</c>); by default from <see cref="Kind"/>: N, X, TEXT or the choices.</summary>
    public string? Placeholder { get; init; }
}
