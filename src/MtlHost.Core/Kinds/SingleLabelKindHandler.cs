using MtlHost.Core.Data;
using MtlHost.Core.Inference;
using static TorchSharp.torch;

namespace MtlHost.Core.Kinds;

/// <summary>
/// What sequence and pair classification share once their input is tokenized: one label index per example,
/// cross-entropy logits <c>[B, L]</c>, a softmax over the labels.
/// </summary>
public abstract class SingleLabelKindHandler : TaskKindHandler
{
    /// <inheritdoc />
    public override Tensor CollateTargets(IReadOnlyList<EncodedExample> examples, int length, Device device) =>
        tensor(examples.Select(e => e.Label).ToArray(), device: device);

    /// <inheritdoc />
    public override Tensor BaselineOutputs(IReadOnlyList<EncodedExample> train, int outputSize, Tensor targets)
    {
        var rows = (int)targets.shape[0];
        var majority = train.GroupBy(e => e.Label).OrderByDescending(g => g.Count()).ThenBy(g => g.Key).First().Key;
        return nn.functional.one_hot(full(rows, majority, ScalarType.Int64), outputSize).to_type(ScalarType.Float32);
    }

    /// <inheritdoc />
    public override Tensor Probabilities(Tensor outputs) => outputs.softmax(-1);

    /// <inheritdoc />
    public override TaskPrediction Decode(TaskPrediction prediction, float[] probabilities, int row, int length, IReadOnlyList<string> labels,
        IReadOnlyList<WordAlignment>? alignments)
    {
        var values = new ReadOnlySpan<float>(probabilities, row * labels.Count, labels.Count);
        var best = PredictionDecoder.ArgMax(values);
        return prediction with { Label = labels[best], Scores = PredictionDecoder.Top(labels, values, [best]) };
    }

    /// <inheritdoc />
    public override string? DescribeHead(IReadOnlyList<string> tensorNames) =>
        SdkHead(tensorNames, ClassifierTensors,
            "logits = h[:, 0] @ classifier.weight.T + classifier.bias  [B, L] ([CLS] state, not the pooler); label = labels[argmax(softmax(logits))].");

    /// <inheritdoc />
    protected override long[] CountLabels(IReadOnlyList<EncodedExample> train, int labelCount)
    {
        var counts = new long[labelCount];
        foreach (var example in train)
        {
            counts[example.Label]++;
        }
        return counts;
    }
}
