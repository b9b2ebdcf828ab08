using MtlHost.Abstractions;
using static TorchSharp.torch;

namespace MtlHost.Core.Data;

/// <summary>
/// Pads a list of encoded examples to the longest one in the list (dynamic padding) and builds the
/// input and target tensors on the training device.
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
        var batch = examples.Count;
        var length = examples.Max(e => e.InputIds.Length);
        var ids = new long[batch * length];
        var types = new long[batch * length];
        var mask = new long[batch * length];
        Array.Fill(ids, padId);
        long tokens = 0;
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
            tokens += example.InputIds.Length;
        }

        var targets = kind switch
        {
            TaskKind.SequenceClassification or TaskKind.PairClassification =>
                tensor(examples.Select(e => e.Label).ToArray(), device: device),
            TaskKind.MultiLabelClassification =>
                tensor(examples.SelectMany(e => e.LabelSet!).ToArray(), [batch, examples[0].LabelSet!.Length], device: device),
            TaskKind.TokenClassification => tensor(PadTokenLabels(examples, length), [batch, length], device: device),
            _ => tensor(examples.Select(e => e.Value).ToArray(), device: device),
        };

        return new TaskBatch(
            tensor(ids, [batch, length], device: device),
            tensor(types, [batch, length], device: device),
            tensor(mask, [batch, length], device: device),
            targets)
        {
            TokenCount = tokens,
        };
    }

    private static long[] PadTokenLabels(IReadOnlyList<EncodedExample> examples, int length)
    {
        var labels = new long[examples.Count * length];
        Array.Fill(labels, TaskTargets.IgnoreIndex);
        for (var b = 0; b < examples.Count; b++)
        {
            examples[b].TokenLabels!.CopyTo(labels, b * length);
        }
        return labels;
    }
}
