using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MtlHost.Abstractions;

/// <summary>
/// The usual BERT classification head: the hidden state of the first token ([CLS]), dropout,
/// then a linear layer to one logit per label. Output <c>[B, L]</c>.
/// </summary>
public sealed class ClassificationHead : TaskHead
{
    private readonly Dropout dropout;
    private readonly Linear classifier;

    /// <summary>Creates the head with BERT's initialisation (normal, std 0.02; zero bias).</summary>
    /// <param name="hiddenSize">Encoder width.</param>
    /// <param name="labelCount">Number of labels.</param>
    /// <param name="dropoutProbability">Dropout before the classifier.</param>
    public ClassificationHead(int hiddenSize, int labelCount, double dropoutProbability) : base(nameof(ClassificationHead))
    {
        dropout = nn.Dropout(dropoutProbability);
        classifier = BertLinear.Create(hiddenSize, labelCount);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor hiddenStates, Tensor attentionMask)
    {
        using var cls = hiddenStates.select(1, 0);
        using var dropped = dropout.forward(cls);
        return classifier.forward(dropped);
    }
}
