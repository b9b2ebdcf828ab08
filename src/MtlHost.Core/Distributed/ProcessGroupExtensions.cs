using System.Buffers.Binary;
using System.Text;

namespace MtlHost.Core.Distributed;

/// <summary>
/// Collectives built on <see cref="IProcessGroup"/>'s primitives, so that every implementation has them alike:
/// payloads whose length only the root knows, and averaged scalars.
/// </summary>
public static class ProcessGroupExtensions
{
    /// <summary>
    /// Sends a byte array of any length from <paramref name="root"/> to every rank: its length first, then its bytes.
    /// (Not an overload of <see cref="IProcessGroup.Broadcast"/>: a byte array converts to a span, so C# would pick the
    /// fixed-length instance method.)
    /// </summary>
    /// <param name="group">The group.</param>
    /// <param name="data">The root's bytes; ignored (may be <see langword="null"/>) on the other ranks.</param>
    /// <param name="root">The sending rank.</param>
    /// <returns>The root's bytes, on every rank (on the root, <paramref name="data"/> itself).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="data"/> is null on the root.</exception>
    public static byte[] BroadcastBytes(this IProcessGroup group, byte[]? data, int root = 0)
    {
        ArgumentNullException.ThrowIfNull(group);
        var isRoot = group.Rank == root;
        if (isRoot)
        {
            ArgumentNullException.ThrowIfNull(data);
        }
        Span<byte> length = stackalloc byte[sizeof(long)];
        if (isRoot)
        {
            BinaryPrimitives.WriteInt64LittleEndian(length, data!.LongLength);
        }
        group.Broadcast(length, root);
        if (isRoot)
        {
            group.Broadcast(data.AsSpan(), root);
            return data!;
        }
        var received = new byte[checked((int)BinaryPrimitives.ReadInt64LittleEndian(length))];
        group.Broadcast(received.AsSpan(), root);
        return received;
    }

    /// <summary>Sends a string from <paramref name="root"/> to every rank (UTF-8, length first).</summary>
    /// <param name="group">The group.</param>
    /// <param name="value">The root's string; ignored (may be <see langword="null"/>) on the other ranks.</param>
    /// <param name="root">The sending rank.</param>
    /// <returns>The root's string, on every rank.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="value"/> is null on the root.</exception>
    public static string BroadcastString(this IProcessGroup group, string? value, int root = 0)
    {
        ArgumentNullException.ThrowIfNull(group);
        if (group.Rank == root)
        {
            ArgumentNullException.ThrowIfNull(value);
            group.BroadcastBytes(Encoding.UTF8.GetBytes(value), root);
            return value;
        }
        return Encoding.UTF8.GetString(group.BroadcastBytes(null, root));
    }

    /// <summary>
    /// The mean over all ranks of each of <paramref name="values"/> (one call for all of them): for per-task losses,
    /// which loss-based weightings must see alike on every rank so that every rank weights alike.
    /// </summary>
    /// <param name="group">The group.</param>
    /// <param name="values">This rank's values, as many on every rank; left unchanged.</param>
    /// <returns>The means, in the same order.</returns>
    public static double[] ReduceScalars(this IProcessGroup group, double[] values)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(values);
        var result = (double[])values.Clone();
        if (group.Size == 1)
        {
            return result;
        }
        group.AllReduceSum(result);
        for (var i = 0; i < result.Length; i++)
        {
            result[i] /= group.Size;
        }
        return result;
    }
}
