using MtlHost.Core.Encoders;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MtlHost.Core.Sharing;

/// <summary>
/// The task-specific encoder part of one branch (a task, or a group of related tasks): the parameters the
/// branch owns beyond the shared encoder, and the forward that combines the two.
/// </summary>
/// <remarks>
/// <para>
/// Branches are host-owned modules (no plugin code), so a checkpoint keeps them by <see cref="BranchName"/>:
/// <c>branch.save(path)</c> / <c>branch.load(path)</c> (TorchSharp's format), or <c>state_dict()</c> /
/// <c>load_state_dict(...)</c> into a branch made by the same strategy and options.
/// </para>
/// <para>
/// A branch has its own training mode: call <c>train()</c> / <c>eval()</c> on it with the shared encoder, since
/// its copied layers have dropout of their own.
/// </para>
/// </remarks>
public abstract class EncoderBranch : Module
{
    private readonly BertConfig config;

    /// <summary>
    /// Records what the branch belongs to.
    /// </summary>
    /// <param name="branchName">The task id or task-group name the branch serves.</param>
    /// <param name="strategyName">Name of the strategy that made it.</param>
    /// <param name="config">Shape of the shared encoder it was made from.</param>
    protected EncoderBranch(string branchName, string strategyName, BertConfig config) : base(nameof(EncoderBranch))
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(branchName);
        ArgumentNullException.ThrowIfNull(config);
        BranchName = branchName;
        StrategyName = strategyName;
        this.config = config;
    }

    /// <summary>The task id or task-group name the branch serves; the key of its state in a checkpoint.</summary>
    public string BranchName { get; }

    /// <summary>Name of the strategy that made the branch (<c>hard</c>, <c>top-layers</c>, <c>adapters</c>).</summary>
    public string StrategyName { get; }

    /// <summary>Number of parameters the branch owns (0 for <c>hard</c>).</summary>
    public long ParameterCount => parameters().Sum(p => p.numel());

    /// <summary>
    /// Encodes a padded batch through the shared encoder and this branch's own parts.
    /// </summary>
    /// <param name="shared">The shared encoder the branch was made from.</param>
    /// <param name="inputIds">Token ids, [B, T], int64.</param>
    /// <param name="tokenTypeIds">Segment ids, [B, T], int64.</param>
    /// <param name="attentionMask">[B, T], nonzero for real tokens.</param>
    /// <returns>Final hidden states and the shared representation.</returns>
    /// <exception cref="ArgumentException">The inputs are malformed, or <paramref name="shared"/> has another shape than the branch was made for.</exception>
    public EncoderBranchOutput Encode(BertEncoder shared, Tensor inputIds, Tensor tokenTypeIds, Tensor attentionMask)
    {
        ArgumentNullException.ThrowIfNull(shared);
        BertEncoder.CheckInputs(inputIds, tokenTypeIds, attentionMask);
        var other = shared.Config;
        if (other.HiddenSize != config.HiddenSize || other.LayerCount != config.LayerCount
            || other.IntermediateSize != config.IntermediateSize || other.HeadCount != config.HeadCount)
        {
            throw new ArgumentException(
                $"Encoder branch '{BranchName}' was made for an encoder with {config.LayerCount} layers of width {config.HiddenSize}, " +
                $"but was given one with {other.LayerCount} layers of width {other.HiddenSize}; make the branch from the encoder it runs with.",
                nameof(shared));
        }

        return EncodeChecked(shared, inputIds, tokenTypeIds, attentionMask);
    }

    /// <summary>
    /// <see cref="Encode"/> after its checks.
    /// </summary>
    /// <param name="shared">The shared encoder, of the branch's shape.</param>
    /// <param name="inputIds">Token ids, [B, T], int64.</param>
    /// <param name="tokenTypeIds">Segment ids, [B, T], int64.</param>
    /// <param name="attentionMask">[B, T], nonzero for real tokens.</param>
    /// <returns>Final hidden states and the shared representation, owned by the caller's dispose scope.</returns>
    protected abstract EncoderBranchOutput EncodeChecked(BertEncoder shared, Tensor inputIds, Tensor tokenTypeIds, Tensor attentionMask);

    /// <summary>Moves freshly made parameters to the shared encoder's device and type, and copies its training mode.</summary>
    /// <param name="shared">The shared encoder.</param>
    protected void MatchEncoder(BertEncoder shared)
    {
        ArgumentNullException.ThrowIfNull(shared);
        var reference = shared.parameters().First();
        this.to(reference.dtype).to(reference.device);
        train(shared.training);
    }
}
