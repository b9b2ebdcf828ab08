using System.Runtime.InteropServices;

namespace MtlHost.Core.Distributed;

/// <summary>
/// Keeps glibc's heap from handing out fresh pages for every large buffer: Open MPI allocates a temporary buffer per
/// all-reduce, and glibc serves a buffer above its mmap threshold (dynamic, at most 32 MiB) with a new mapping, or trims
/// the top of the heap once it is freed, so the next call page-faults all its memory again.
/// </summary>
internal static class GlibcHeap
{
    private const int TrimThreshold = -1, MmapThreshold = -3;

    /// <summary>
    /// Serves allocations up to 32 MiB (glibc's largest mmap threshold) from the heap, and keeps up to 1 GiB of freed
    /// heap rather than returning it to the system: the buffers of one step are reused by the next. Does nothing where the
    /// C library is not glibc.
    /// </summary>
    public static void KeepLargeBuffers()
    {
        try
        {
            Mallopt(MmapThreshold, 32 * 1024 * 1024);
            Mallopt(TrimThreshold, 1024 * 1024 * 1024);
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            // Another C library: its allocator is its own business.
        }
    }

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int Mallopt(int parameter, int value);
}
