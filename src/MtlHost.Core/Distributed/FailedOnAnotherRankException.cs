namespace MtlHost.Core.Distributed;

/// <summary>
/// Thrown on the ranks where something worked because it failed on another rank: every rank then takes the same
/// failure path (and calls the same collectives) as the rank where it failed.
/// </summary>
public sealed class FailedOnAnotherRankException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="what">What failed elsewhere, for the message.</param>
    public FailedOnAnotherRankException(string what) : base($"{what} failed on another process; every process takes the same path.")
    {
    }
}
