using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MtlHost.Abstractions;

/// <summary>
/// The usual BERT classification head: the hidden state of the first token ([CLS]), dropout,
/// then a linear layer to one logit per label. Output <c>[B, L]</c>.
/// </summary>
public sealed class ClassificationHead : TaskHead, ITrainingSplitAware
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

    /// <summary>
    /// The classifier's starting bias (one logit per label) from the training split's label counts, or
    /// <see langword="null"/> to start at 0. Adam moves a bias by about one learning rate per step, so a bias that
    /// must travel to a rare label's prior logit (−3 for a label on 5% of the examples) takes thousands of steps
    /// from 0; starting there leaves the steps to what depends on the input.
    /// </summary>
    public Func<TrainingSplitSummary, IReadOnlyList<double>>? InitialBias { get; init; }

    /// <inheritdoc />
    public void Prepare(TrainingSplitSummary training)
    {
        if (InitialBias?.Invoke(training) is not { } bias)
        {
            return;
        }
        using var noGrad = no_grad();
        using var values = tensor(bias.Select(b => (float)b).ToArray(), device: classifier.bias!.device);
        classifier.bias!.copy_(values);
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor hiddenStates, Tensor attentionMask)
    {
        using var cls = hiddenStates.select(1, 0);
        using var dropped = dropout.forward(cls);
        return classifier.forward(dropped);
    }
}
