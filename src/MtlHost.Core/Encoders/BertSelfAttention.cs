using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MtlHost.Core.Encoders;

/// <summary>
/// Multi-head scaled dot-product self-attention over a padded batch.
/// </summary>
/// <remarks>Parameter names follow Hugging Face's <c>BertSelfAttention</c> (<c>query</c>, <c>key</c>, <c>value</c>).</remarks>
public sealed class BertSelfAttention : Module<Tensor, Tensor, Tensor>
{
    private readonly Linear query;
    private readonly Linear key;
    private readonly Linear value;
    private readonly int headCount;
    private readonly int headSize;
    private readonly double attentionDropout;

    /// <summary>
    /// Creates the attention projections for <paramref name="config"/>.
    /// </summary>
    /// <param name="config">The encoder shape.</param>
    public BertSelfAttention(BertConfig config) : base(nameof(BertSelfAttention))
    {
        query = Linear(config.HiddenSize, config.HiddenSize);
        key = Linear(config.HiddenSize, config.HiddenSize);
        value = Linear(config.HiddenSize, config.HiddenSize);
        headCount = config.HeadCount;
        headSize = config.HeadSize;
        attentionDropout = config.AttentionDropout;
        RegisterComponents();
    }

    /// <summary>
    /// Attends every position to every non-padding position.
    /// </summary>
    /// <param name="hidden">Hidden states, [B, T, H].</param>
    /// <param name="additiveMask">
    /// Float mask broadcastable to [B, heads, T, T]: 0 where attention is allowed, a large negative
    /// number where it is not (see <see cref="BertEncoder.ExtendedAttentionMask"/>).
    /// </param>
    /// <returns>The attended context, [B, T, H], before the output projection.</returns>
    public override Tensor forward(Tensor hidden, Tensor additiveMask)
    {
        using var scope = NewDisposeScope();
        var q = SplitHeads(query.call(hidden));
        var k = SplitHeads(key.call(hidden));
        var v = SplitHeads(value.call(hidden));

        // softmax(q kᵀ / √d + mask) v, with dropout on the probabilities while training.
        var context = functional.scaled_dot_product_attention(
            q, k, v, attn_mask: additiveMask, p: training ? attentionDropout : 0.0);

        return MergeHeads(context).MoveToOuterDisposeScope();
    }

    // [B, T, H] -> [B, heads, T, d]
    private Tensor SplitHeads(Tensor x) => x.view(x.shape[0], x.shape[1], headCount, headSize).transpose(1, 2);

    // [B, heads, T, d] -> [B, T, H]
    private Tensor MergeHeads(Tensor x) => x.transpose(1, 2).reshape(x.shape[0], x.shape[2], headCount * headSize);
}
