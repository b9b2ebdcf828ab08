namespace MtlHost.Worker;

/// <summary>A control request reached a run that has not started yet or has ended (HTTP 409).</summary>
public sealed class RunNotActiveException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What the run is doing instead.</param>
    public RunNotActiveException(string message) : base(message)
    {
    }
}
