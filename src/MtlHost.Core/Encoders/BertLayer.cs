using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MtlHost.Core.Encoders;

/// <summary>
/// One post-LayerNorm transformer layer: attention block, then feed-forward block, each with a residual.
/// </summary>
/// <remarks>Parameter names follow Hugging Face's <c>BertLayer</c>: <c>attention.*</c>, <c>intermediate.*</c>, <c>output.*</c>.</remarks>
public sealed class BertLayer : Module<Tensor, Tensor, Tensor>
{
    private readonly BertAttention attention;
    private readonly BertIntermediate intermediate;
    private readonly BertSublayerOutput output;

    /// <summary>
    /// Creates a layer for <paramref name="config"/>.
    /// </summary>
    /// <param name="config">The encoder shape.</param>
    public BertLayer(BertConfig config) : base(nameof(BertLayer))
    {
        attention = new BertAttention(config);
        intermediate = new BertIntermediate(config);
        output = new BertSublayerOutput(config.IntermediateSize, config);
        RegisterComponents();
    }

    /// <summary>
    /// Transforms the hidden states.
    /// </summary>
    /// <param name="hidden">Hidden states, [B, T, H].</param>
    /// <param name="additiveMask">Float attention mask broadcastable to [B, heads, T, T].</param>
    /// <returns>Hidden states, [B, T, H].</returns>
    public override Tensor forward(Tensor hidden, Tensor additiveMask)
    {
        using var scope = NewDisposeScope();
        var attended = attention.call(hidden, additiveMask);
        return output.call(intermediate.call(attended), attended).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// As <see cref="forward(Tensor, Tensor)"/>, with optional adapters after the attention output projection and
    /// after the feed-forward output projection, each before its residual add and LayerNorm (Houlsby et al. 2019).
    /// </summary>
    /// <param name="hidden">Hidden states, [B, T, H].</param>
    /// <param name="additiveMask">Float attention mask broadcastable to [B, heads, T, T].</param>
    /// <param name="attentionAdapter">Adapter of the attention block, or <see langword="null"/>.</param>
    /// <param name="outputAdapter">Adapter of the feed-forward block, or <see langword="null"/>.</param>
    /// <returns>Hidden states, [B, T, H].</returns>
    public Tensor forward(Tensor hidden, Tensor additiveMask, Module<Tensor, Tensor>? attentionAdapter, Module<Tensor, Tensor>? outputAdapter)
    {
        using var scope = NewDisposeScope();
        var attended = attention.forward(hidden, additiveMask, attentionAdapter);
        return output.forward(intermediate.call(attended), attended, outputAdapter).MoveToOuterDisposeScope();
    }
}
