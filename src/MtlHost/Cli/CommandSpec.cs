namespace MtlHost.Cli;

/// <summary>One verb of the command line: its name, what it does, and its options.</summary>
/// <param name="Verb">The verb (with its sub-verbs, as <c>plugins list|check</c>).</param>
/// <param name="Summary">What it does, in one line.</param>
/// <param name="Options">Its options, in the order usage lists them.</param>
public sealed record CommandSpec(string Verb, string Summary, IReadOnlyList<OptionSpec> Options)
{
    /// <summary>Positional arguments after the options, as usage shows them (<c>RUN_DIR [RUN_DIR...]</c>), or <see langword="null"/>.</summary>
    public string? Arguments { get; init; }

    /// <summary>Options usage shows without brackets: the command cannot run without them.</summary>
    public IReadOnlyList<string> Required { get; init; } = [];

    /// <summary>Options of another command this one takes too, shown as a note instead of one by one (<c>serve</c> takes train's).</summary>
    public string? SharedOptionsNote { get; init; }

    /// <summary>Options to leave out of usage because <see cref="SharedOptionsNote"/> stands for them.</summary>
    public IReadOnlyList<OptionSpec> NotListed { get; init; } = [];
}
