using MtlHost.Abstractions;
using MtlHost.Core.Tokenization;

namespace MtlHost.Core.Data;

/// <summary>Tokenizes raw examples with the shared tokenizer and turns labels into target values.</summary>
public sealed class ExampleEncoder
{
    private readonly BertWordPieceTokenizer _tokenizer;
    private readonly TaskDescriptor _descriptor;
    private readonly int _maxLength;
    private readonly Dictionary<string, int> _labelIndex;

    /// <summary>Creates the encoder for one task.</summary>
    /// <param name="tokenizer">The shared tokenizer.</param>
    /// <param name="descriptor">The task.</param>
    /// <param name="maxLength">Longest token sequence, including special tokens; longer inputs are truncated.</param>
    public ExampleEncoder(BertWordPieceTokenizer tokenizer, TaskDescriptor descriptor, int maxLength)
    {
        _tokenizer = tokenizer;
        _descriptor = descriptor;
        _maxLength = maxLength;
        _labelIndex = descriptor.Labels.Select((label, index) => (label, index)).ToDictionary(p => p.label, p => p.index, StringComparer.Ordinal);
    }

    /// <summary>Encodes one example.</summary>
    /// <param name="example">The raw example.</param>
    /// <returns>Token ids and target.</returns>
    /// <exception cref="TaskDataException">The example lacks what the task's kind needs, or names an unknown label.</exception>
    public EncodedExample Encode(TaskExample example)
    {
        switch (_descriptor.Kind)
        {
            case TaskKind.SequenceClassification:
            {
                var encoded = _tokenizer.Encode(Require(example.Text, example, "Text"), _maxLength);
                return new EncodedExample(encoded.InputIds, encoded.TokenTypeIds) { Label = IndexOf(example.Label, example) };
            }
            case TaskKind.PairClassification:
            {
                var encoded = _tokenizer.EncodePair(Require(example.Text, example, "Text"), Require(example.TextPair, example, "TextPair"), _maxLength);
                return new EncodedExample(encoded.InputIds, encoded.TokenTypeIds) { Label = IndexOf(example.Label, example) };
            }
            case TaskKind.MultiLabelClassification:
            {
                var encoded = _tokenizer.Encode(Require(example.Text, example, "Text"), _maxLength);
                var multiHot = new float[_descriptor.Labels.Count];
                foreach (var label in example.LabelSet ?? throw Missing(example, "LabelSet"))
                {
                    multiHot[IndexOf(label, example)] = 1f;
                }
                return new EncodedExample(encoded.InputIds, encoded.TokenTypeIds) { LabelSet = multiHot };
            }
            case TaskKind.TokenClassification:
            {
                var words = example.Words ?? throw Missing(example, "Words");
                var wordLabels = example.WordLabels ?? throw Missing(example, "WordLabels");
                if (words.Count != wordLabels.Count)
                {
                    throw new TaskDataException($"{Where(example)}: {words.Count} words but {wordLabels.Count} word labels.");
                }
                var encoded = _tokenizer.EncodeWords(words, _maxLength);
                // Only the first sub-token of each word carries the word's label, as in BERT's NER recipe.
                var tokenLabels = new long[encoded.InputIds.Length];
                var previousWord = -1;
                for (var i = 0; i < tokenLabels.Length; i++)
                {
                    var word = encoded.WordIds[i];
                    // A word without a label (null) is skipped by the loss and the metric like a continuation sub-token.
                    tokenLabels[i] = word >= 0 && word != previousWord && wordLabels[word] is { } label ? IndexOf(label, example) : TaskTargets.IgnoreIndex;
                    if (word >= 0)
                    {
                        previousWord = word;
                    }
                }
                return new EncodedExample(encoded.InputIds, encoded.TokenTypeIds) { TokenLabels = tokenLabels };
            }
            default:
            {
                var encoded = _tokenizer.Encode(Require(example.Text, example, "Text"), _maxLength);
                var value = example.Value ?? throw Missing(example, "Value");
                return new EncodedExample(encoded.InputIds, encoded.TokenTypeIds) { Value = (float)value };
            }
        }
    }

    private int IndexOf(string? label, TaskExample example)
    {
        if (label is null)
        {
            throw Missing(example, "Label");
        }
        if (!_labelIndex.TryGetValue(label, out var index))
        {
            throw new TaskDataException(
                $"{Where(example)}: unknown label '{label}'; task '{_descriptor.Id}' has labels {string.Join(", ", _descriptor.Labels)}.");
        }
        return index;
    }

    private string Require(string? text, TaskExample example, string member) =>
        string.IsNullOrWhiteSpace(text) ? throw Missing(example, member) : text;

    private TaskDataException Missing(TaskExample example, string member) =>
        new($"{Where(example)}: a {_descriptor.Kind} example needs {member}, but it is missing or empty.");

    private string Where(TaskExample example) => $"task '{_descriptor.Id}', {example.Source ?? "an example"}";
}
