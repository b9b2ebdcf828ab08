namespace MtlHost.Inference;

/// <summary>
/// A prediction was asked for before any checkpoint was loaded (a run that has not written its first checkpoint yet),
/// or after the batcher was disposed. A web endpoint answers it with 503 and a retry hint.
/// </summary>
public sealed class PredictionUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">Why there is no prediction, and when there will be.</param>
    public PredictionUnavailableException(string message) : base(message)
    {
    }
}
