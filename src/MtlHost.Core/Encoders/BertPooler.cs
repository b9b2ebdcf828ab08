using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MtlHost.Core.Encoders;

/// <summary>
/// BERT's pooler: tanh(dense(h[CLS])). Kept so pretrained weights round-trip; task heads may ignore it.
/// </summary>
public sealed class BertPooler : Module<Tensor, Tensor>
{
    private readonly Linear dense;

    /// <summary>
    /// Creates the pooler for <paramref name="config"/>.
    /// </summary>
    /// <param name="config">The encoder shape.</param>
    public BertPooler(BertConfig config) : base(nameof(BertPooler))
    {
        dense = Linear(config.HiddenSize, config.HiddenSize);
        RegisterComponents();
    }

    /// <summary>
    /// Pools a batch of hidden states through their first ([CLS]) position.
    /// </summary>
    /// <param name="hidden">Hidden states, [B, T, H].</param>
    /// <returns>Pooled vectors, [B, H].</returns>
    public override Tensor forward(Tensor hidden)
    {
        using var scope = NewDisposeScope();
        return dense.call(hidden.select(1, 0)).tanh().MoveToOuterDisposeScope();
    }
}
