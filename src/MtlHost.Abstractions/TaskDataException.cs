namespace MtlHost.Abstractions;

/// <summary>A task's data cannot be used: the file is missing, or too many records are bad.</summary>
public sealed class TaskDataException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong and how to fix it.</param>
    public TaskDataException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    /// <param name="message">What is wrong and how to fix it.</param>
    /// <param name="innerException">The underlying error.</param>
    public TaskDataException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
