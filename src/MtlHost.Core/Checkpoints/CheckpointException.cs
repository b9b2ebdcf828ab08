namespace MtlHost.Core.Checkpoints;

/// <summary>
/// A checkpoint cannot be used: it is missing or malformed, or the plugin DLLs it was trained with are
/// missing or changed. The message names the file or task and the fix.
/// </summary>
public sealed class CheckpointException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong and how to fix it.</param>
    /// <param name="innerException">The underlying error, if any.</param>
    public CheckpointException(string message, Exception? innerException = null) : base(message, innerException)
    {
    }
}
