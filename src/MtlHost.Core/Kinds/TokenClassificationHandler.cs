using MtlHost.Abstractions;
using MtlHost.Core.Data;
using MtlHost.Core.Inference;
using static TorchSharp.torch;

namespace MtlHost.Core.Kinds;

/// <summary>
/// The host's side of <see cref="TaskKind.TokenClassification"/>: words with one label each, carried by each word's
/// first sub-token as in BERT's NER recipe; every other position is <see cref="TaskTargets.IgnoreIndex"/>.
/// </summary>
public sealed class TokenClassificationHandler : TaskKindHandler
{
    /// <inheritdoc />
    public override TaskKind Kind => TaskKind.TokenClassification;

    /// <inheritdoc />
    public override string ShortName => "tokens";

    /// <inheritdoc />
    public override InputEncoding Input => InputEncoding.Words;

    /// <inheritdoc />
    public override string ExportInput => "[CLS] words [SEP]: each whitespace-separated word tokenized on its own, token_type_ids 0";

    /// <inheritdoc />
    public override EncodedExample Encode(TaskExample example, ExampleEncoder encoder)
    {
        var words = example.Words ?? throw encoder.Missing(example, "Words");
        var wordLabels = example.WordLabels ?? throw encoder.Missing(example, "WordLabels");
        if (words.Count != wordLabels.Count)
        {
            throw encoder.Bad(example, $"{words.Count} words but {wordLabels.Count} word labels.");
        }
        var encoded = encoder.Tokenizer.EncodeWords(words, encoder.MaxLength);
        var tokenLabels = new long[encoded.InputIds.Length];
        var previousWord = -1;
        for (var i = 0; i < tokenLabels.Length; i++)
        {
            var word = encoded.WordIds[i];
            // A word without a label (null) is skipped by the loss and the metric like a continuation sub-token.
            tokenLabels[i] = word >= 0 && word != previousWord && wordLabels[word] is { } label ? encoder.IndexOf(label, example) : TaskTargets.IgnoreIndex;
            if (word >= 0)
            {
                previousWord = word;
            }
        }
        return new EncodedExample(encoded.InputIds, encoded.TokenTypeIds) { TokenLabels = tokenLabels };
    }

    /// <inheritdoc />
    public override Tensor CollateTargets(IReadOnlyList<EncodedExample> examples, int length, Device device)
    {
        var labels = new long[examples.Count * length];
        Array.Fill(labels, TaskTargets.IgnoreIndex);
        for (var b = 0; b < examples.Count; b++)
        {
            examples[b].TokenLabels!.CopyTo(labels, b * length);
        }
        return tensor(labels, [examples.Count, length], device: device);
    }

    /// <inheritdoc />
    public override Tensor BaselineOutputs(IReadOnlyList<EncodedExample> train, int outputSize, Tensor targets)
    {
        var majority = train.SelectMany(e => e.TokenLabels!).Where(l => l != TaskTargets.IgnoreIndex)
            .GroupBy(l => l).OrderByDescending(g => g.Count()).ThenBy(g => g.Key).First().Key;
        return nn.functional.one_hot(full(targets.shape, majority, ScalarType.Int64), outputSize).to_type(ScalarType.Float32);
    }

    /// <inheritdoc />
    public override Tensor Probabilities(Tensor outputs) => outputs.softmax(-1);

    /// <inheritdoc />
    public override TaskPrediction Decode(TaskPrediction prediction, float[] probabilities, int row, int length, IReadOnlyList<string> labels,
        IReadOnlyList<WordAlignment>? alignments)
    {
        var alignment = alignments?[row] ?? throw new ArgumentException($"Task '{prediction.TaskId}' is token classification: pass the words of every row.", nameof(alignments));
        return prediction with
        {
            Words = alignment.Decode(labels, length, t => new ReadOnlySpan<float>(probabilities, (row * length + t) * labels.Count, labels.Count)),
        };
    }

    /// <inheritdoc />
    public override string? DescribeHead(IReadOnlyList<string> tensorNames) =>
        SdkHead(tensorNames, ClassifierTensors,
            "logits = h @ classifier.weight.T + classifier.bias  [B, T, L]; a word's label = labels[argmax(softmax(logits))] at its first sub-token.");

    /// <inheritdoc />
    protected override long[] CountLabels(IReadOnlyList<EncodedExample> train, int labelCount)
    {
        var counts = new long[labelCount];
        foreach (var example in train)
        {
            foreach (var label in example.TokenLabels ?? [])
            {
                if (label != TaskTargets.IgnoreIndex)
                {
                    counts[label]++;
                }
            }
        }
        return counts;
    }
}
