using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MtlHost.Abstractions;

/// <summary>
/// The usual BERT token-classification head: dropout, then a linear layer applied to every token's
/// hidden state, giving one logit per label per token. Output <c>[B, T, L]</c>; the host's targets
/// ignore padding, special tokens and all but the first sub-token of each word.
/// </summary>
public sealed class TokenClassificationHead : TaskHead
{
    private readonly Dropout dropout;
    private readonly Linear classifier;

    /// <summary>Creates the head with BERT's initialisation (normal, std 0.02; zero bias).</summary>
    /// <param name="hiddenSize">Encoder width.</param>
    /// <param name="labelCount">Number of labels.</param>
    /// <param name="dropoutProbability">Dropout before the classifier.</param>
    public TokenClassificationHead(int hiddenSize, int labelCount, double dropoutProbability) : base(nameof(TokenClassificationHead))
    {
        dropout = nn.Dropout(dropoutProbability);
        classifier = BertLinear.Create(hiddenSize, labelCount);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor hiddenStates, Tensor attentionMask)
    {
        using var dropped = dropout.forward(hiddenStates);
        return classifier.forward(dropped);
    }
}
