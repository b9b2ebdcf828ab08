using static TorchSharp.torch;

namespace MtlHost.Abstractions;

/// <summary>Mean softmax cross-entropy of logits <c>[B, L]</c> (or <c>[B, T, L]</c>) against label indices, skipping <see cref="TaskTargets.IgnoreIndex"/>.</summary>
public sealed class SingleLabelCrossEntropy : ITaskLoss
{
    /// <inheritdoc />
    public Tensor Compute(Tensor outputs, Tensor targets)
    {
        if (outputs.dim() == 3)
        {
            using var flatOutputs = outputs.reshape(-1, outputs.shape[^1]);
            using var flatTargets = targets.reshape(-1);
            return nn.functional.cross_entropy(flatOutputs, flatTargets, ignore_index: TaskTargets.IgnoreIndex);
        }
        return nn.functional.cross_entropy(outputs, targets, ignore_index: TaskTargets.IgnoreIndex);
    }
}
