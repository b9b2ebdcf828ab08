using MtlHost.Abstractions;
using MtlHost.Core.Data;
using static TorchSharp.torch;

namespace MtlHost.Core.Kinds;

/// <summary>
/// Pads a list of encoded examples to the longest one in the list (dynamic padding) and builds the input tensors and,
/// through the kind's <see cref="TaskKindHandler"/>, the target tensor on the given device. Training, evaluation and
/// prediction pad with this one collator, so the encoder sees the same rows in all three.
/// </summary>
public static class BatchCollator
{
    /// <summary>Builds a batch.</summary>
    /// <param name="examples">The examples; at least one.</param>
    /// <param name="kind">The task's kind, which decides the target tensor.</param>
    /// <param name="padId">Id of the [PAD] token.</param>
    /// <param name="device">Where the tensors go.</param>
    /// <returns>The batch; the caller disposes it (or lets the dispose scope do it).</returns>
    public static TaskBatch Collate(IReadOnlyList<EncodedExample> examples, TaskKind kind, int padId, Device device)
    {
        var length = examples.Max(e => e.InputIds.Length);
        var targets = TaskKindHandler.For(kind).CollateTargets(examples, length, device);
        var (ids, types, mask) = CollateInputs(examples, padId, device);
        return new TaskBatch(ids, types, mask, targets) { TokenCount = examples.Sum(e => (long)e.InputIds.Length) };
    }

    /// <summary>Pads the token rows of a batch, without targets (prediction).</summary>
    /// <param name="examples">The rows; at least one. Their targets are not read.</param>
    /// <param name="padId">Id of the [PAD] token.</param>
    /// <param name="device">Where the tensors go.</param>
    /// <returns>Token ids, segment ids and the attention mask, each <c>[B, T]</c> int64.</returns>
    public static (Tensor InputIds, Tensor TokenTypeIds, Tensor AttentionMask) CollateInputs(IReadOnlyList<EncodedExample> examples, int padId, Device device)
    {
        var batch = examples.Count;
        var length = examples.Max(e => e.InputIds.Length);
        var ids = new long[batch * length];
        var types = new long[batch * length];
        var mask = new long[batch * length];
        Array.Fill(ids, padId);
        for (var b = 0; b < batch; b++)
        {
            var example = examples[b];
            var row = b * length;
            for (var t = 0; t < example.InputIds.Length; t++)
            {
                ids[row + t] = example.InputIds[t];
                types[row + t] = example.TokenTypeIds[t];
                mask[row + t] = 1;
            }
        }
        return (tensor(ids, [batch, length], device: device), tensor(types, [batch, length], device: device), tensor(mask, [batch, length], device: device));
    }
}
