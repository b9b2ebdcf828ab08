namespace MtlHost.Core.Distributed;

/// <summary>How a run trains across processes (section <c>Distributed</c>); used only when started by <c>mpirun</c>.</summary>
public sealed record DistributedOptions
{
    /// <summary>
    /// Largest gradient bucket, in MiB, averaged in one message. Open MPI allocates a temporary buffer per message, and
    /// above glibc's mmap threshold (32 MiB) every message pays for fresh pages; 25 MiB stays under it.
    /// </summary>
    public int BucketMegabytes { get; init; } = 25;

    /// <summary><see cref="BucketMegabytes"/> in bytes.</summary>
    public long BucketBytes => BucketMegabytes * 1024L * 1024L;
}
