using MtlHost.Core.Encoders;
using TorchSharp.Modules;

namespace MtlHost.Core.Sharing;

/// <summary>
/// Task-specific top layers: all branches share the embeddings and the bottom k layers; each branch owns a copy
/// of the top L − k layers, initialised from the shared encoder's weights when the branch is made.
/// </summary>
/// <remarks>
/// The shared encoder's own top layers are then used by no branch: they keep their (pretrained) weights and
/// are the starting point of every branch made later, e.g. for a task that joins by hot reload.
/// </remarks>
public sealed class TopLayerSharing : ISharingStrategy
{
    /// <summary>The strategy's name.</summary>
    public const string StrategyName = "top-layers";

    /// <summary>
    /// Creates the strategy.
    /// </summary>
    /// <param name="sharedLayers">k, or <see langword="null"/> for <see cref="DefaultSharedLayers"/>.</param>
    /// <exception cref="ArgumentException"><paramref name="sharedLayers"/> is negative.</exception>
    public TopLayerSharing(int? sharedLayers = null)
    {
        if (sharedLayers is < 0)
        {
            throw new ArgumentException(
                $"--sharing {StrategyName}: the number of shared layers must be 0 or more, but was {sharedLayers}.",
                nameof(sharedLayers));
        }

        SharedLayers = sharedLayers;
    }

    /// <summary>k as configured; <see langword="null"/> means <see cref="DefaultSharedLayers"/> of the encoder.</summary>
    public int? SharedLayers { get; }

    /// <inheritdoc/>
    public string Name => StrategyName;

    /// <summary>
    /// The default k: the bottom two thirds of the layers (rounded down), so the top third is per branch —
    /// 4 of 6 for MiniLM-L6, 8 of 12 for BERT-base, 1 of 2 for the tiny encoder. Lower BERT layers hold the
    /// general (lexical, syntactic) features and the top ones change most in fine-tuning.
    /// </summary>
    /// <param name="config">The encoder shape.</param>
    /// <returns>k, between 0 and L − 1.</returns>
    public static int DefaultSharedLayers(BertConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return Math.Min(2 * config.LayerCount / 3, config.LayerCount - 1);
    }

    /// <summary>
    /// The k in effect for an encoder shape.
    /// </summary>
    /// <param name="config">The encoder shape.</param>
    /// <returns>k.</returns>
    /// <exception cref="ArgumentException">The configured k is not below the layer count.</exception>
    public int SharedLayersFor(BertConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var k = SharedLayers ?? DefaultSharedLayers(config);
        CheckSharedLayers(k, config);
        return k;
    }

    /// <inheritdoc/>
    public void Validate(BertConfig config) => SharedLayersFor(config);

    /// <inheritdoc/>
    public EncoderBranch CreateBranch(string branchName, BertEncoder shared)
    {
        ArgumentNullException.ThrowIfNull(shared);
        return new TopLayerBranch(branchName, shared, SharedLayersFor(shared.Config));
    }

    /// <inheritdoc/>
    /// <remarks>The embeddings and layers 0 to k − 1; not the top layers, which every branch has its own copy of.</remarks>
    public IReadOnlyList<Parameter> UsedSharedParameters(BertEncoder shared)
    {
        ArgumentNullException.ThrowIfNull(shared);
        return SharedParameterSelection.EmbeddingsAndBottomLayers(shared, SharedLayersFor(shared.Config));
    }

    /// <summary>
    /// Checks k against an encoder: 0 (only the embeddings shared) to L − 1 (only the top layer per branch).
    /// </summary>
    /// <param name="sharedLayers">k.</param>
    /// <param name="config">The encoder shape.</param>
    /// <exception cref="ArgumentException">k is out of range.</exception>
    internal static void CheckSharedLayers(int sharedLayers, BertConfig config)
    {
        if (sharedLayers < 0 || sharedLayers >= config.LayerCount)
        {
            throw new ArgumentException(
                $"--sharing {StrategyName} --shared-layers {sharedLayers} (Sharing:SharedLayers) is out of range for an encoder of " +
                $"{config.LayerCount} layers; use 0 to {config.LayerCount - 1} (sharing all {config.LayerCount} is --sharing {HardSharing.StrategyName}).");
        }
    }
}
