using System.Diagnostics.CodeAnalysis;

namespace MtlHost.Core.Distributed;

/// <summary>
/// The processes of one data-parallel run (MPI's <c>MPI_COMM_WORLD</c>), and the few collective operations that
/// data-parallel training needs.
/// </summary>
/// <remarks>
/// <para>
/// Every member but <see cref="Rank"/>, <see cref="Size"/>, <see cref="IsRoot"/> and <see cref="Abort"/> is a
/// <em>collective</em>: every rank must call it, in the same order, with buffers of the same length (and the same
/// root). A rank that skips one, or calls another, leaves the others waiting forever; a rank that fails should call
/// <see cref="Abort"/>, which brings the whole run down instead.
/// </para>
/// <para>
/// One thread at a time: implementations serialize concurrent calls, but the ORDER of collectives must be the same
/// on every rank, which only a single driving thread per process guarantees.
/// </para>
/// <para>
/// <see cref="ProcessGroups.Detect()"/> gives the group the process was started in. Dispose it once, at the normal end
/// of the process's work, on every rank (for MPI this is <c>MPI_Finalize</c>, which waits for every rank). A rank that
/// fails or stops early calls <see cref="Abort"/> instead: disposing would wait for ranks that wait for it.
/// Byte arrays, strings and averaged scalars: <see cref="ProcessGroupExtensions"/>.
/// </para>
/// </remarks>
public interface IProcessGroup : IDisposable
{
    /// <summary>This process's index, 0 to <see cref="Size"/> − 1.</summary>
    int Rank { get; }

    /// <summary>How many processes train together.</summary>
    int Size { get; }

    /// <summary>Whether this is rank 0: the one that logs, evaluates and writes checkpoints.</summary>
    bool IsRoot { get; }

    /// <summary>Replaces <paramref name="values"/>, on every rank, by their element-wise sum over all ranks.</summary>
    /// <param name="values">This rank's values; the sums on return. Same length on every rank.</param>
    /// <remarks>
    /// One MPI call per call, whatever the length. Open MPI allocates a temporary buffer of the whole message for each
    /// call; above glibc's largest mmap threshold (32 MiB) that is fresh pages every time, which made one 91 MB call two
    /// to ten times slower than the same bytes in 25 MiB pieces. Large buffers go through <see cref="GradientBuckets"/>,
    /// which keeps every call at most its bucket size.
    /// </remarks>
    void AllReduceSum(Span<float> values);

    /// <summary>Replaces <paramref name="values"/>, on every rank, by their element-wise sum over all ranks.</summary>
    /// <param name="values">This rank's values; the sums on return. Same length on every rank.</param>
    void AllReduceSum(Span<double> values);

    /// <summary>Copies <paramref name="data"/> of rank <paramref name="root"/> into <paramref name="data"/> of every other rank.</summary>
    /// <param name="data">The root's bytes to send; on the other ranks, where they arrive. Same length on every rank.</param>
    /// <param name="root">The sending rank.</param>
    /// <remarks>For a payload whose length only the root knows, see <see cref="ProcessGroupExtensions.BroadcastBytes"/>.</remarks>
    void Broadcast(Span<byte> data, int root = 0);

    /// <summary>Returns when every rank has called it.</summary>
    void Barrier();

    /// <summary>
    /// Ends every rank of the run, this one included, with a non-zero exit: what a rank does when it cannot go on, since
    /// the others would otherwise wait for it in their next collective.
    /// </summary>
    /// <param name="code">The exit code to report (mpirun passes it on as its own).</param>
    [DoesNotReturn]
    void Abort(int code);
}
