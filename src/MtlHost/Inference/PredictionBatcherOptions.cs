namespace MtlHost.Inference;

/// <summary>How <see cref="PredictionBatcher"/> groups concurrent requests.</summary>
/// <param name="MaxBatchSize">Most requests in one batch (one encoder pass).</param>
/// <param name="MaxDelay">
/// Longest wait for more requests after the first of a batch arrived; it bounds the latency batching adds.
/// <see langword="null"/> means 5 ms.
/// </param>
public sealed record PredictionBatcherOptions(int MaxBatchSize = 32, TimeSpan? MaxDelay = null)
{
    /// <summary>The delay used when <see cref="MaxDelay"/> is not set.</summary>
    public static TimeSpan DefaultMaxDelay { get; } = TimeSpan.FromMilliseconds(5);

    /// <summary>The wait actually used.</summary>
    public TimeSpan Delay => MaxDelay ?? DefaultMaxDelay;
}
