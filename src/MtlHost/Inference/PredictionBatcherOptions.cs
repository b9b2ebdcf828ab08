namespace MtlHost.Inference;

/// <summary>How <see cref="PredictionBatcher"/> groups concurrent requests.</summary>
/// <param name="MaxBatchSize">Most requests in one batch (one encoder pass).</param>
/// <param name="MaxDelay">
/// Longest wait for more requests after the first of a batch arrived; it bounds the latency batching adds.
/// <see langword="null"/> means 5 ms.
/// </param>
/// <param name="MaxWaiting">
/// Most requests waiting for their batch; beyond it a request is refused at once (busy) rather than queued without bound,
/// so a flood of requests cannot grow memory or the time every caller waits.
/// </param>
public sealed record PredictionBatcherOptions(int MaxBatchSize = 32, TimeSpan? MaxDelay = null, int MaxWaiting = 1024)
{
    /// <summary>The delay used when <see cref="MaxDelay"/> is not set.</summary>
    public static TimeSpan DefaultMaxDelay { get; } = TimeSpan.FromMilliseconds(5);

    /// <summary>The wait actually used.</summary>
    public TimeSpan Delay => MaxDelay ?? DefaultMaxDelay;
}
