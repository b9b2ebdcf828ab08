namespace MtlHost.Cli;

/// <summary>Value type of a command-line option.</summary>
public enum OptionKind
{
    /// <summary>No value: present or absent.</summary>
    Flag,

    /// <summary>Any text (a path, a URL).</summary>
    Text,

    /// <summary>A whole number, 0 or more.</summary>
    Count,

    /// <summary>Any integer.</summary>
    Integer,

    /// <summary>A real number.</summary>
    Number,

    /// <summary>One of <see cref="OptionSpec.Allowed"/>.</summary>
    Choice,
}
