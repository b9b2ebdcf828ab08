using static TorchSharp.torch;

namespace MtlHost.Core.Data;

/// <summary>One padded mini-batch of one task, on the training device.</summary>
public sealed class TaskBatch : IDisposable
{
    /// <summary>Creates the batch; it owns the tensors.</summary>
    /// <param name="inputIds">Token ids <c>[B, T]</c>, int64.</param>
    /// <param name="tokenTypeIds">Segment ids <c>[B, T]</c>, int64.</param>
    /// <param name="attentionMask">1 for tokens, 0 for padding, <c>[B, T]</c>, int64.</param>
    /// <param name="targets">Targets, shaped as the task's kind documents.</param>
    public TaskBatch(Tensor inputIds, Tensor tokenTypeIds, Tensor attentionMask, Tensor targets)
    {
        InputIds = inputIds;
        TokenTypeIds = tokenTypeIds;
        AttentionMask = attentionMask;
        Targets = targets;
    }

    /// <summary>Token ids <c>[B, T]</c>.</summary>
    public Tensor InputIds { get; }

    /// <summary>Segment ids <c>[B, T]</c>.</summary>
    public Tensor TokenTypeIds { get; }

    /// <summary>Attention mask <c>[B, T]</c>.</summary>
    public Tensor AttentionMask { get; }

    /// <summary>Targets.</summary>
    public Tensor Targets { get; }

    /// <summary>Batch size.</summary>
    public long Size => InputIds.shape[0];

    /// <summary>Number of real (non-padding) tokens.</summary>
    public long TokenCount { get; init; }

    /// <inheritdoc />
    public void Dispose()
    {
        InputIds.Dispose();
        TokenTypeIds.Dispose();
        AttentionMask.Dispose();
        Targets.Dispose();
    }
}
