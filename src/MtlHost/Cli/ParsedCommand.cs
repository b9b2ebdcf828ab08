namespace MtlHost.Cli;

/// <summary>A parsed command line: the verb (and sub-verb) and the options given, by name.</summary>
/// <param name="Verb">The command (<c>train</c>, <c>plugins</c>, …).</param>
/// <param name="SubVerb">The sub-command (<c>list</c> or <c>check</c> of <c>plugins</c>), if any.</param>
/// <param name="Options">Option name to value (<c>"true"</c> for flags), as given.</param>
/// <param name="Specs">The options the verb accepts.</param>
public sealed record ParsedCommand(string Verb, string? SubVerb, IReadOnlyDictionary<string, string> Options, IReadOnlyList<OptionSpec> Specs)
{
    /// <summary>Positional arguments (the run folders of <c>compare</c>); other verbs take none.</summary>
    public IReadOnlyList<string> Arguments { get; init; } = [];

    /// <summary>Whether a flag was given.</summary>
    /// <param name="name">Option name.</param>
    /// <returns><see langword="true"/> when present.</returns>
    public bool Has(string name) => Options.ContainsKey(name);

    /// <summary>The value of an option, or <see langword="null"/>.</summary>
    /// <param name="name">Option name.</param>
    /// <returns>The value as given.</returns>
    public string? Get(string name) => Options.TryGetValue(name, out var value) ? value : null;

    /// <summary>The options that map to configuration keys, ready for an in-memory configuration source.</summary>
    /// <returns>Configuration key to value.</returns>
    public IEnumerable<KeyValuePair<string, string?>> ToConfiguration()
    {
        var settings = Specs.Where(s => s.ConfigurationKey is not null && Options.ContainsKey(s.Name))
            .Select(s => new KeyValuePair<string, string?>(s.ConfigurationKey!, Options[s.Name]));
        // serve trains until stopped; a step budget on its command line asks for a run that ends.
        return Verb == "serve" && Has("steps") ? settings.Append(new("Training:Continuous", "false")) : settings;
    }
}
