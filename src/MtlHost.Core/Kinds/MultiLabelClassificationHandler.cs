using MtlHost.Abstractions;
using MtlHost.Core.Data;
using MtlHost.Core.Inference;
using static TorchSharp.torch;

namespace MtlHost.Core.Kinds;

/// <summary>
/// The host's side of <see cref="TaskKind.MultiLabelClassification"/>: one text, a multi-hot target, a sigmoid per
/// label, labels at <see cref="PredictionDecoder.MultiLabelThreshold"/> or above predicted.
/// </summary>
public sealed class MultiLabelClassificationHandler : TaskKindHandler
{
    /// <inheritdoc />
    public override TaskKind Kind => TaskKind.MultiLabelClassification;

    /// <inheritdoc />
    public override string ShortName => "multi-label";

    /// <inheritdoc />
    public override InputEncoding Input => InputEncoding.Text;

    /// <inheritdoc />
    public override string ExportInput => "[CLS] text [SEP], token_type_ids 0";

    /// <inheritdoc />
    public override EncodedExample Encode(TaskExample example, ExampleEncoder encoder)
    {
        var encoded = encoder.Tokenizer.Encode(encoder.Require(example.Text, example, "Text"), encoder.MaxLength);
        var multiHot = new float[encoder.LabelCount];
        foreach (var label in example.LabelSet ?? throw encoder.Missing(example, "LabelSet"))
        {
            multiHot[encoder.IndexOf(label, example)] = 1f;
        }
        return new EncodedExample(encoded.InputIds, encoded.TokenTypeIds) { LabelSet = multiHot };
    }

    /// <inheritdoc />
    public override Tensor CollateTargets(IReadOnlyList<EncodedExample> examples, int length, Device device) =>
        tensor(examples.SelectMany(e => e.LabelSet!).ToArray(), [examples.Count, examples[0].LabelSet!.Length], device: device);

    /// <inheritdoc />
    public override Tensor BaselineOutputs(IReadOnlyList<EncodedExample> train, int outputSize, Tensor targets)
    {
        // Per label, the majority: on when more than half the training examples have it.
        var frequency = new float[outputSize];
        foreach (var example in train)
        {
            for (var k = 0; k < frequency.Length; k++)
            {
                frequency[k] += example.LabelSet![k];
            }
        }
        var logits = frequency.Select(f => f * 2 > train.Count ? 10f : -10f).ToArray();
        return tensor(logits).unsqueeze(0).expand((int)targets.shape[0], -1);
    }

    /// <inheritdoc />
    public override Tensor Probabilities(Tensor outputs) => outputs.sigmoid();

    /// <inheritdoc />
    public override TaskPrediction Decode(TaskPrediction prediction, float[] probabilities, int row, int length, IReadOnlyList<string> labels,
        IReadOnlyList<WordAlignment>? alignments)
    {
        var values = new ReadOnlySpan<float>(probabilities, row * labels.Count, labels.Count);
        var chosen = new List<int>();
        for (var k = 0; k < values.Length; k++)
        {
            if (values[k] >= PredictionDecoder.MultiLabelThreshold)
            {
                chosen.Add(k);
            }
        }
        var ordered = chosen.OrderByDescending(k => probabilities[row * labels.Count + k]).ToList();
        return prediction with { Labels = ordered.Select(k => labels[k]).ToArray(), Scores = PredictionDecoder.Top(labels, values, ordered) };
    }

    /// <inheritdoc />
    public override string? DescribeHead(IReadOnlyList<string> tensorNames) =>
        SdkHead(tensorNames, ClassifierTensors,
            "logits = h[:, 0] @ classifier.weight.T + classifier.bias  [B, L]; predicted labels: sigmoid(logits) >= 0.5.");

    /// <inheritdoc />
    protected override long[] CountLabels(IReadOnlyList<EncodedExample> train, int labelCount)
    {
        var counts = new long[labelCount];
        foreach (var example in train)
        {
            for (var i = 0; i < counts.Length && i < (example.LabelSet?.Length ?? 0); i++)
            {
                if (example.LabelSet![i] > 0)
                {
                    counts[i]++;
                }
            }
        }
        return counts;
    }
}
