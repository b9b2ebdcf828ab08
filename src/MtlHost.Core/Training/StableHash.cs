using System.Text;

namespace MtlHost.Core.Training;

/// <summary>
/// A hash of a string that is the same in every process (unlike <see cref="string.GetHashCode()"/>),
/// so seeds derived from task ids reproduce across runs.
/// </summary>
public static class StableHash
{
    /// <summary>FNV-1a of the UTF-8 bytes, folded to a non-negative int.</summary>
    /// <param name="text">The text.</param>
    /// <returns>The hash.</returns>
    public static int Of(string text)
    {
        var hash = 2166136261u;
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            hash = (hash ^ b) * 16777619u;
        }
        return (int)(hash & 0x7FFFFFFF);
    }
}
