using MtlHost.Core.Encoders;
using TorchSharp.Modules;

namespace MtlHost.Core.Sharing;

/// <summary>
/// Hard parameter sharing (the default): every branch uses the whole shared encoder and owns none of it.
/// </summary>
public sealed class HardSharing : ISharingStrategy
{
    /// <summary>The strategy's name.</summary>
    public const string StrategyName = "hard";

    /// <inheritdoc/>
    public string Name => StrategyName;

    /// <inheritdoc/>
    public void Validate(BertConfig config) => ArgumentNullException.ThrowIfNull(config);

    /// <inheritdoc/>
    public EncoderBranch CreateBranch(string branchName, BertEncoder shared) => new HardSharingBranch(branchName, shared);

    /// <inheritdoc/>
    /// <remarks>The embeddings and every layer.</remarks>
    public IReadOnlyList<Parameter> UsedSharedParameters(BertEncoder shared) =>
        SharedParameterSelection.EmbeddingsAndBottomLayers(shared, shared.Config.LayerCount);
}
