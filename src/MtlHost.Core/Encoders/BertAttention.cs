using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MtlHost.Core.Encoders;

/// <summary>
/// Self-attention followed by its output projection and residual LayerNorm.
/// </summary>
/// <remarks>Parameter names follow Hugging Face's <c>BertAttention</c>: <c>self.*</c> and <c>output.*</c>.</remarks>
public sealed class BertAttention : Module<Tensor, Tensor, Tensor>
{
    private readonly BertSelfAttention self;
    private readonly BertSublayerOutput output;

    /// <summary>
    /// Creates the attention block for <paramref name="config"/>.
    /// </summary>
    /// <param name="config">The encoder shape.</param>
    public BertAttention(BertConfig config) : base(nameof(BertAttention))
    {
        self = new BertSelfAttention(config);
        output = new BertSublayerOutput(config.HiddenSize, config);
        RegisterComponents();
    }

    /// <summary>
    /// Applies self-attention with its residual connection.
    /// </summary>
    /// <param name="hidden">Hidden states, [B, T, H].</param>
    /// <param name="additiveMask">Float attention mask broadcastable to [B, heads, T, T].</param>
    /// <returns>Hidden states, [B, T, H].</returns>
    public override Tensor forward(Tensor hidden, Tensor additiveMask)
    {
        using var context = self.call(hidden, additiveMask);
        return output.call(context, hidden);
    }

    /// <summary>
    /// As <see cref="forward(Tensor, Tensor)"/>, with an optional adapter after the output projection.
    /// </summary>
    /// <param name="hidden">Hidden states, [B, T, H].</param>
    /// <param name="additiveMask">Float attention mask broadcastable to [B, heads, T, T].</param>
    /// <param name="adapter">See <see cref="BertSublayerOutput.forward(Tensor, Tensor, Module{Tensor, Tensor})"/>; <see langword="null"/> for none.</param>
    /// <returns>Hidden states, [B, T, H].</returns>
    public Tensor forward(Tensor hidden, Tensor additiveMask, Module<Tensor, Tensor>? adapter)
    {
        using var context = self.call(hidden, additiveMask);
        return output.forward(context, hidden, adapter);
    }
}
