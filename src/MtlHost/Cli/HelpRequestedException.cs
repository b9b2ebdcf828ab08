namespace MtlHost.Cli;

/// <summary>The command line asked for help (<c>--help</c>, <c>-h</c>, <c>help</c>): the text goes to standard output and the process exits 0.</summary>
public sealed class HelpRequestedException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="text">The help text.</param>
    public HelpRequestedException(string text) : base(text)
    {
    }
}
