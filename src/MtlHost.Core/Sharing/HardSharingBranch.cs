using MtlHost.Core.Encoders;
using static TorchSharp.torch;

namespace MtlHost.Core.Sharing;

/// <summary>
/// The branch of hard parameter sharing: no parameters of its own; its forward is the shared encoder's.
/// </summary>
public sealed class HardSharingBranch : EncoderBranch
{
    /// <summary>
    /// Creates the (empty) branch.
    /// </summary>
    /// <param name="branchName">The task id or task-group name the branch serves.</param>
    /// <param name="shared">The shared encoder.</param>
    public HardSharingBranch(string branchName, BertEncoder shared)
        : base(branchName, HardSharing.StrategyName, (shared ?? throw new ArgumentNullException(nameof(shared))).Config)
    {
        RegisterComponents();
    }

    /// <inheritdoc/>
    protected override EncoderBranchOutput EncodeChecked(BertEncoder shared, Tensor inputIds, Tensor tokenTypeIds, Tensor attentionMask)
    {
        var hidden = shared.call(inputIds, tokenTypeIds, attentionMask);
        return new EncoderBranchOutput(hidden, hidden);
    }
}
