namespace MtlHost.Core.Distributed;

/// <summary>An MPI call returned an error code instead of aborting the job.</summary>
public sealed class MpiException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="call">The MPI function that failed.</param>
    /// <param name="errorCode">Its return code.</param>
    /// <param name="errorText">The library's text for the code (<c>MPI_Error_string</c>).</param>
    public MpiException(string call, int errorCode, string errorText)
        : base($"{call} failed with error {errorCode}: {errorText}")
    {
        Call = call;
        ErrorCode = errorCode;
    }

    /// <summary>Creates the exception with only a message.</summary>
    /// <param name="message">The message.</param>
    public MpiException(string message) : base(message)
    {
        Call = "";
    }

    /// <summary>The MPI function that failed; empty when not a call.</summary>
    public string Call { get; }

    /// <summary>Its return code; 0 when not a call.</summary>
    public int ErrorCode { get; }
}
