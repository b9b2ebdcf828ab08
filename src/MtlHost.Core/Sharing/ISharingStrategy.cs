using MtlHost.Core.Encoders;
using TorchSharp.Modules;

namespace MtlHost.Core.Sharing;

/// <summary>
/// How much of the encoder branches share (<c>--sharing</c>). A branch is one task, or one group of related
/// tasks; each gets an <see cref="EncoderBranch"/> holding its own encoder parameters.
/// </summary>
public interface ISharingStrategy
{
    /// <summary>The strategy's name in config and on the command line (lower case).</summary>
    string Name { get; }

    /// <summary>
    /// Checks the strategy's settings against an encoder shape, so that a bad option is reported before
    /// training starts.
    /// </summary>
    /// <param name="config">The shared encoder's shape.</param>
    /// <exception cref="ArgumentException">A setting does not fit the encoder; the message names it and the valid range.</exception>
    void Validate(BertConfig config);

    /// <summary>
    /// Makes a new branch from the shared encoder's current weights.
    /// </summary>
    /// <param name="branchName">The task id or task-group name the branch serves.</param>
    /// <param name="shared">The shared encoder.</param>
    /// <returns>The branch, on the encoder's device and in its training mode.</returns>
    /// <exception cref="ArgumentException">A setting does not fit the encoder.</exception>
    EncoderBranch CreateBranch(string branchName, BertEncoder shared);

    /// <summary>
    /// The shared-encoder parameters a branch's forward uses, in the encoder's parameter order: the ones
    /// a task's loss can have a gradient for (for gradient-based loss weightings). Never the pooler.
    /// </summary>
    /// <param name="shared">The shared encoder.</param>
    /// <returns>The parameters, frozen ones included (filter on <c>requires_grad</c> for trainable ones).</returns>
    IReadOnlyList<Parameter> UsedSharedParameters(BertEncoder shared);
}
