using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MtlHost.Core.Encoders;

/// <summary>
/// The stack of transformer layers, applied bottom to top.
/// </summary>
/// <remarks>
/// Hugging Face calls this module <c>BertEncoder</c>; here that name belongs to the whole model. The field
/// <c>layer</c> keeps the state-dict names <c>encoder.layer.{i}.*</c>.
/// </remarks>
public sealed class BertLayerStack : Module<Tensor, Tensor, Tensor>
{
    private readonly ModuleList<BertLayer> layer;

    /// <summary>
    /// Creates <see cref="BertConfig.LayerCount"/> layers.
    /// </summary>
    /// <param name="config">The encoder shape.</param>
    public BertLayerStack(BertConfig config) : base(nameof(BertLayerStack))
    {
        layer = new ModuleList<BertLayer>(Enumerable.Range(0, config.LayerCount).Select(_ => new BertLayer(config)).ToArray());
        RegisterComponents();
    }

    /// <summary>The layers, bottom (closest to the embeddings) first.</summary>
    public IReadOnlyList<BertLayer> Layers => layer.AsReadOnly();

    /// <summary>
    /// Runs every layer in turn.
    /// </summary>
    /// <param name="hidden">Embeddings, [B, T, H].</param>
    /// <param name="additiveMask">Float attention mask broadcastable to [B, heads, T, T].</param>
    /// <returns>The last layer's hidden states, [B, T, H].</returns>
    public override Tensor forward(Tensor hidden, Tensor additiveMask)
    {
        using var scope = NewDisposeScope();
        var x = hidden;
        foreach (var l in layer)
        {
            x = l.call(x, additiveMask);
        }

        return x.MoveToOuterDisposeScope();
    }
}
