using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MtlHost.Core.Encoders;

/// <summary>
/// The post-LayerNorm residual step that closes each BERT sublayer: LayerNorm(dropout(dense(x)) + residual).
/// </summary>
/// <remarks>
/// Hugging Face has two classes of this shape, <c>BertSelfOutput</c> (after attention) and <c>BertOutput</c>
/// (after the feed-forward layer); both name their parameters <c>dense</c> and <c>LayerNorm</c>, so one class serves.
/// </remarks>
public sealed class BertSublayerOutput : Module<Tensor, Tensor, Tensor>
{
    private readonly Linear dense;
    private readonly LayerNorm LayerNorm;
    private readonly UniformMaskDropout dropout;

    /// <summary>
    /// Creates the output step.
    /// </summary>
    /// <param name="inputSize">Width of the sublayer's output (hidden size after attention, intermediate size after the feed-forward layer).</param>
    /// <param name="config">The encoder shape.</param>
    public BertSublayerOutput(int inputSize, BertConfig config) : base(nameof(BertSublayerOutput))
    {
        dense = Linear(inputSize, config.HiddenSize);
        LayerNorm = nn.LayerNorm(config.HiddenSize, config.LayerNormEpsilon);
        dropout = new UniformMaskDropout(config.HiddenDropout);
        RegisterComponents();
    }

    /// <summary>
    /// Projects the sublayer output back to the hidden size and adds it to the residual stream.
    /// </summary>
    /// <param name="x">The sublayer's output, [B, T, inputSize].</param>
    /// <param name="residual">The sublayer's input, [B, T, H].</param>
    /// <returns>The new hidden states, [B, T, H].</returns>
    public override Tensor forward(Tensor x, Tensor residual)
    {
        using var scope = NewDisposeScope();
        return LayerNorm.call(dropout.call(dense.call(x)) + residual).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// As <see cref="forward(Tensor, Tensor)"/>, with an optional adapter on the projected output before the
    /// residual add and LayerNorm: LayerNorm(adapter(dropout(dense(x))) + residual).
    /// </summary>
    /// <param name="x">The sublayer's output, [B, T, inputSize].</param>
    /// <param name="residual">The sublayer's input, [B, T, H].</param>
    /// <param name="adapter">A [B, T, H] to [B, T, H] module (Houlsby et al. 2019 place theirs here), or <see langword="null"/> for none.</param>
    /// <returns>The new hidden states, [B, T, H].</returns>
    public Tensor forward(Tensor x, Tensor residual, Module<Tensor, Tensor>? adapter)
    {
        if (adapter is null)
        {
            return forward(x, residual);
        }

        using var scope = NewDisposeScope();
        return LayerNorm.call(adapter.call(dropout.call(dense.call(x))) + residual).MoveToOuterDisposeScope();
    }
}
