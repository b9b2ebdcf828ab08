using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MtlHost.Abstractions;

/// <summary>
/// A regression head: the hidden state of the first token ([CLS]), dropout, then a linear layer to one
/// number per example. Output <c>[B]</c>.
/// </summary>
public sealed class RegressionHead : TaskHead
{
    private readonly Dropout dropout;
    private readonly Linear regressor;

    /// <summary>Creates the head: weights normal with std 0.02 as in BERT, bias <paramref name="initialOutput"/>.</summary>
    /// <param name="hiddenSize">Encoder width.</param>
    /// <param name="dropoutProbability">Dropout before the linear layer.</param>
    /// <param name="initialOutput">The bias, so roughly what the fresh head predicts; usually 0 or the training mean.</param>
    public RegressionHead(int hiddenSize, double dropoutProbability, double initialOutput = 0.0) : base(nameof(RegressionHead))
    {
        dropout = nn.Dropout(dropoutProbability);
        regressor = BertLinear.Create(hiddenSize, 1, initialOutput);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor hiddenStates, Tensor attentionMask)
    {
        using var cls = hiddenStates.select(1, 0);
        using var dropped = dropout.forward(cls);
        using var value = regressor.forward(dropped);
        return value.squeeze(-1);
    }
}
