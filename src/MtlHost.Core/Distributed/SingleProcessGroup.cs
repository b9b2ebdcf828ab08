using System.Diagnostics.CodeAnalysis;

namespace MtlHost.Core.Distributed;

/// <summary>
/// The group of a process that trains alone: rank 0 of 1. Every collective is a no-op, since the sum, the broadcast and
/// the average over one process are its own values; so code written for <see cref="IProcessGroup"/> runs unchanged, and
/// without any native library, when the host is not started by mpirun.
/// </summary>
public sealed class SingleProcessGroup : IProcessGroup
{
    /// <inheritdoc />
    public int Rank => 0;

    /// <inheritdoc />
    public int Size => 1;

    /// <inheritdoc />
    public bool IsRoot => true;

    /// <inheritdoc />
    public void AllReduceSum(Span<float> values)
    {
    }

    /// <inheritdoc />
    public void AllReduceSum(Span<double> values)
    {
    }

    /// <inheritdoc />
    public void Broadcast(Span<byte> data, int root = 0)
    {
        // Rank 0 is the only rank: any other root is a caller's bug that MPI would report too.
        ArgumentOutOfRangeException.ThrowIfNotEqual(root, 0);
    }

    /// <inheritdoc />
    public void Barrier()
    {
    }

    /// <summary>Ends the process with <paramref name="code"/> (there are no other ranks to bring down).</summary>
    /// <param name="code">The exit code.</param>
    [DoesNotReturn]
    public void Abort(int code)
    {
        Environment.Exit(code);
        throw new InvalidOperationException("Environment.Exit returned.");
    }

    /// <inheritdoc />
    public void Dispose()
    {
    }
}
