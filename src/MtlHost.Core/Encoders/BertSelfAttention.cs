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
    private readonly UniformMaskDropout attentionDropout;

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
        attentionDropout = new UniformMaskDropout(config.AttentionDropout);
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
        // One [B·T, H] × [H, 3H] product instead of three [H, H] ones: the same arithmetic, but one larger matrix
        // multiplication (and one in the backward pass for the input's gradient) keeps the BLAS kernel busier. The weights
        // stay three Linear modules, so parameter names and checkpoints are Hugging Face's.
        var weight = cat([query.weight!, key.weight!, value.weight!], 0);
        var bias = cat([query.bias!, key.bias!, value.bias!], 0);
        // [B, T, 3H] -> [3, B, heads, T, d]
        var projected = functional.linear(hidden, weight, bias)
            .view(hidden.shape[0], hidden.shape[1], 3, headCount, headSize)
            .permute(2, 0, 3, 1, 4);
        var q = projected[0];
        var k = projected[1];
        var v = projected[2];

        // softmax(q kᵀ / √d + mask) v, with dropout on the probabilities while training.
        var context = training && attentionDropout.Probability > 0 && q.device_type == TorchSharp.DeviceType.CPU
            ? DropoutAttention(q, k, v, additiveMask)
            : functional.scaled_dot_product_attention(q, k, v, attn_mask: additiveMask, p: training ? attentionDropout.Probability : 0.0);

        return MergeHeads(context).MoveToOuterDisposeScope();
    }

    // The attention written out, for dropout on its probabilities on the CPU (CUDA's fused kernels take dropout themselves):
    // libtorch's fused CPU kernel takes no dropout, and its
    // own unfused path draws the [B, heads, T, T] mask with bernoulli_ (two Mersenne Twister draws an element, serially),
    // which cost more than the attention itself; UniformMaskDropout's counter-based mask is one vectorised pass.
    private Tensor DropoutAttention(Tensor q, Tensor k, Tensor v, Tensor additiveMask)
    {
        var scores = q.matmul(k.transpose(-1, -2)).mul_(1 / Math.Sqrt(headSize)).add_(additiveMask);
        return attentionDropout.call(functional.softmax(scores, -1)).matmul(v);
    }

    // [B, heads, T, d] -> [B, T, H]
    private Tensor MergeHeads(Tensor x) => x.transpose(1, 2).reshape(x.shape[0], x.shape[2], headCount * headSize);
}
