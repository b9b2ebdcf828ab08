using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MtlHost.Core.Encoders;

/// <summary>
/// The widening half of BERT's feed-forward layer: GELU(dense(x)).
/// </summary>
/// <remarks>Uses the exact (erf) GELU, as BERT does, not the tanh approximation.</remarks>
public sealed class BertIntermediate : Module<Tensor, Tensor>
{
    private readonly Linear dense;

    /// <summary>
    /// Creates the feed-forward widening layer.
    /// </summary>
    /// <param name="config">The encoder shape.</param>
    public BertIntermediate(BertConfig config) : base(nameof(BertIntermediate))
    {
        dense = Linear(config.HiddenSize, config.IntermediateSize);
        RegisterComponents();
    }

    /// <summary>
    /// Widens and activates the hidden states.
    /// </summary>
    /// <param name="hidden">Hidden states, [B, T, H].</param>
    /// <returns>Activations, [B, T, intermediate size].</returns>
    public override Tensor forward(Tensor hidden)
    {
        using var projected = dense.call(hidden);
        return functional.gelu(projected);
    }
}
