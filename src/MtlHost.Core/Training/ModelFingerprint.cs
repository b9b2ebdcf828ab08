using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace MtlHost.Core.Training;

/// <summary>
/// A 64-bit fingerprint of every weight of a trainer's model — the encoder, each task's head in task-id order, the
/// branches — bit for bit: processes that trained together compare it at the end to prove they hold the same model.
/// </summary>
public static class ModelFingerprint
{
    /// <summary>The fingerprint of <paramref name="trainer"/>'s weights now.</summary>
    /// <param name="trainer">The trainer.</param>
    /// <returns>Equal for equal weights (shapes and bits); different, all but surely, otherwise.</returns>
    public static ulong Of(JointTrainer trainer)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        var hash = 14695981039346656037UL;
        var tensors = trainer.Encoder.parameters().Cast<Tensor>()
            .Concat(trainer.Tasks.SelectMany(t => t.Head.parameters()))
            .Concat(trainer.Branches.SelectMany(b => b.parameters()));
        foreach (var tensor in tensors)
        {
            using var scope = NewDisposeScope();
            var values = tensor.detach().cpu().contiguous();
            foreach (var dimension in values.shape)
            {
                hash = Mix(hash, (ulong)dimension);
            }
            var bytes = values.bytes;
            var words = MemoryMarshal.Cast<byte, ulong>(bytes);
            foreach (var word in words)
            {
                hash = Mix(hash, word);
            }
            for (var i = words.Length * sizeof(ulong); i < bytes.Length; i++)
            {
                hash = Mix(hash, bytes[i]);
            }
        }
        return hash;
    }

    // FNV-1a's step over 64-bit words, with a shift so that high bits reach low ones.
    private static ulong Mix(ulong hash, ulong value)
    {
        hash = (hash ^ value) * 1099511628211UL;
        return hash ^ (hash >> 29);
    }
}
