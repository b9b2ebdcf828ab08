using MtlHost.Core.Encoders;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MtlHost.Core.Sharing;

/// <summary>
/// The branch of task-specific top layers: its own copies of the shared encoder's layers k to L − 1, run on
/// top of the shared embeddings and shared layers 0 to k − 1.
/// </summary>
/// <remarks>
/// The copies keep the layer index of the encoder in their names (<c>layer.4.attention.self.query.weight</c>
/// for layer 4), so a branch's state dict reads like the encoder's <c>encoder.layer.4.*</c>.
/// </remarks>
public sealed class TopLayerBranch : EncoderBranch
{
    // Keyed by the encoder's layer index ("4", "5"), which makes the state-dict names layer.4.*, layer.5.*.
    private readonly TopLayerCopies layer;

    /// <summary>
    /// Creates the branch with deep copies of the shared encoder's current top layers.
    /// </summary>
    /// <param name="branchName">The task id or task-group name the branch serves.</param>
    /// <param name="shared">The shared encoder; its top layers' weights are copied, not referenced.</param>
    /// <param name="sharedLayers">k: how many bottom layers stay shared, 0 to L − 1.</param>
    /// <exception cref="ArgumentException"><paramref name="sharedLayers"/> is out of range.</exception>
    public TopLayerBranch(string branchName, BertEncoder shared, int sharedLayers)
        : base(branchName, TopLayerSharing.StrategyName, (shared ?? throw new ArgumentNullException(nameof(shared))).Config)
    {
        TopLayerSharing.CheckSharedLayers(sharedLayers, shared.Config);
        SharedLayers = sharedLayers;

        var copies = new List<BertLayer>();
        for (var i = sharedLayers; i < shared.Config.LayerCount; i++)
        {
            var copy = new BertLayer(shared.Config);
            // load_state_dict copies values into the new layer's own tensors: the two never alias.
            using (no_grad())
            {
                copy.load_state_dict(shared.Layers[i].state_dict());
            }

            copies.Add(copy);
        }

        layer = new TopLayerCopies(sharedLayers, copies);
        RegisterComponents();
        MatchEncoder(shared);
    }

    /// <summary>k: how many bottom layers the branch takes from the shared encoder.</summary>
    public int SharedLayers { get; }

    /// <summary>The branch's own layers, bottom first (encoder layers k to L − 1).</summary>
    public IReadOnlyList<BertLayer> Layers => layer.Layers;

    /// <inheritdoc/>
    protected override EncoderBranchOutput EncodeChecked(BertEncoder shared, Tensor inputIds, Tensor tokenTypeIds, Tensor attentionMask)
    {
        using var scope = NewDisposeScope();
        var embedded = shared.Embed(inputIds, tokenTypeIds);
        var mask = BertEncoder.ExtendedAttentionMask(attentionMask, embedded.dtype);
        var sharedOutput = shared.RunLayers(embedded, mask, 0, SharedLayers);

        var x = sharedOutput;
        foreach (var own in layer.Layers)
        {
            x = own.call(x, mask);
        }

        // The shared output is the input of the first own layer, so a gradient with respect to it (MGDA-UB)
        // flows through the branch; when no layer is own (never, k < L) it would be the same tensor.
        return new EncoderBranchOutput(x.MoveToOuterDisposeScope(), sharedOutput.MoveToOuterDisposeScope());
    }
}
