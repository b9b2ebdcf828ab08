using static TorchSharp.torch;

namespace MtlHost.Abstractions;

/// <summary>
/// Binary cross-entropy of an independent sigmoid per label: logits <c>[B, L]</c> against multi-hot
/// targets <c>[B, L]</c>, averaged over every example and label.
/// </summary>
public sealed class MultiLabelBinaryCrossEntropy : ITaskLoss
{
    /// <inheritdoc />
    public Tensor Compute(Tensor outputs, Tensor targets)
    {
        // The fused form is numerically stable for large logits, unlike sigmoid followed by log.
        using var typed = targets.to_type(outputs.dtype);
        return nn.functional.binary_cross_entropy_with_logits(outputs, typed);
    }
}
