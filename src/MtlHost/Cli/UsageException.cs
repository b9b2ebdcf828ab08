namespace MtlHost.Cli;

/// <summary>Bad usage or bad input: the process exits with code 2 and this message on standard error.</summary>
public sealed class UsageException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong and how to fix it.</param>
    public UsageException(string message) : base(message)
    {
    }
}
