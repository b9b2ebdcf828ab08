using MtlHost.Abstractions;
using static TorchSharp.torch;

namespace MtlHost.Core.Inference;

/// <summary>
/// Turns a head's outputs into predictions, as each <see cref="TaskKind"/> documents its outputs: softmax over the
/// labels for sequence and pair classification, a sigmoid per label (kept at 0.5 or above, the threshold the
/// multi-label metric uses) for multi-label, a softmax per word's first sub-token for token classification, and the
/// number itself for regression.
/// </summary>
public static class PredictionDecoder
{
    /// <summary>How many labels <see cref="TaskPrediction.Scores"/> keeps at most, besides the predicted ones.</summary>
    public const int TopScores = 5;

    /// <summary>Probability a multi-label label needs to be predicted.</summary>
    public const double MultiLabelThreshold = 0.5;

    /// <summary>Decodes the outputs of one head for a batch of rows.</summary>
    /// <param name="descriptor">The task (its id, kind and labels).</param>
    /// <param name="outputs">The head's outputs for the rows, shaped as the kind documents: <c>[R, L]</c>, <c>[R, T, L]</c> or <c>[R]</c>.</param>
    /// <param name="alignments">For token classification, the words of each row; ignored otherwise.</param>
    /// <returns>One prediction per row.</returns>
    /// <exception cref="InvalidOperationException">The outputs do not have the shape the task's kind documents.</exception>
    public static IReadOnlyList<TaskPrediction> Decode(TaskDescriptor descriptor, Tensor outputs, IReadOnlyList<WordAlignment>? alignments = null)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        ArgumentNullException.ThrowIfNull(outputs);
        using var scope = NewDisposeScope();
        var kind = descriptor.Kind;
        var rows = (int)outputs.shape[0];
        var labels = descriptor.Labels;
        var expected = kind switch
        {
            TaskKind.Regression => new long[] { rows },
            TaskKind.TokenClassification => [rows, outputs.dim() == 3 ? outputs.shape[1] : -1, labels.Count],
            _ => [rows, labels.Count],
        };
        if (!outputs.shape.SequenceEqual(expected))
        {
            throw new InvalidOperationException(
                $"Task '{descriptor.Id}' ({kind}) output shape [{string.Join(", ", outputs.shape)}], but its kind needs " +
                $"[{string.Join(", ", expected)}]; the head does not fit its task's kind.");
        }

        var values = outputs.detach().to(CPU).to_type(ScalarType.Float32);
        var probabilities = kind switch
        {
            TaskKind.SequenceClassification or TaskKind.PairClassification or TaskKind.TokenClassification => values.softmax(-1),
            TaskKind.MultiLabelClassification => values.sigmoid(),
            _ => values,
        };
        var data = probabilities.contiguous().data<float>().ToArray();
        var predictions = new TaskPrediction[rows];
        for (var r = 0; r < rows; r++)
        {
            var prediction = new TaskPrediction(descriptor.Id, kind.ToString());
            switch (kind)
            {
                case TaskKind.SequenceClassification or TaskKind.PairClassification:
                {
                    var row = new ReadOnlySpan<float>(data, r * labels.Count, labels.Count);
                    var best = ArgMax(row);
                    prediction = prediction with { Label = labels[best], Scores = Top(labels, row, [best]) };
                    break;
                }
                case TaskKind.MultiLabelClassification:
                {
                    var row = new ReadOnlySpan<float>(data, r * labels.Count, labels.Count);
                    var chosen = new List<int>();
                    for (var k = 0; k < row.Length; k++)
                    {
                        if (row[k] >= MultiLabelThreshold)
                        {
                            chosen.Add(k);
                        }
                    }
                    var ordered = chosen.OrderByDescending(k => data[r * labels.Count + k]).ToList();
                    prediction = prediction with { Labels = ordered.Select(k => labels[k]).ToArray(), Scores = Top(labels, row, ordered) };
                    break;
                }
                case TaskKind.TokenClassification:
                {
                    var alignment = alignments?[r] ?? throw new ArgumentException($"Task '{descriptor.Id}' is token classification: pass the words of every row.", nameof(alignments));
                    prediction = prediction with { Words = DecodeWords(labels, data, r, (int)expected[1], alignment) };
                    break;
                }
                default:
                    prediction = prediction with { Value = data[r] };
                    break;
            }
            predictions[r] = prediction;
        }
        return predictions;
    }

    private static List<WordPrediction> DecodeWords(IReadOnlyList<string> labels, float[] data, int row, int length, WordAlignment alignment)
    {
        // The first sub-token of each word carries its label, as the training targets put it.
        var firstToken = new int[alignment.Words.Count];
        Array.Fill(firstToken, -1);
        for (var t = alignment.WordIds.Count - 1; t >= 0; t--)
        {
            var word = alignment.WordIds[t];
            if (word >= 0 && word < firstToken.Length && t < length)
            {
                firstToken[word] = t;
            }
        }
        var words = new List<WordPrediction>(alignment.Words.Count);
        for (var w = 0; w < alignment.Words.Count; w++)
        {
            if (firstToken[w] < 0)
            {
                words.Add(new WordPrediction(alignment.Words[w], null, null));
                continue;
            }
            var probabilities = new ReadOnlySpan<float>(data, (row * length + firstToken[w]) * labels.Count, labels.Count);
            var best = ArgMax(probabilities);
            words.Add(new WordPrediction(alignment.Words[w], labels[best], Math.Round(probabilities[best], 6)));
        }
        return words;
    }

    private static int ArgMax(ReadOnlySpan<float> values)
    {
        var best = 0;
        for (var k = 1; k < values.Length; k++)
        {
            if (values[k] > values[best])
            {
                best = k;
            }
        }
        return best;
    }

    private static Dictionary<string, double> Top(IReadOnlyList<string> labels, ReadOnlySpan<float> probabilities, IReadOnlyList<int> predicted)
    {
        var order = new int[probabilities.Length];
        for (var k = 0; k < order.Length; k++)
        {
            order[k] = k;
        }
        var copy = probabilities.ToArray();
        Array.Sort(order, (a, b) => copy[b].CompareTo(copy[a]));
        var kept = order.Take(TopScores).Union(predicted).OrderByDescending(k => copy[k]);
        // Insertion order is kept by Dictionary when nothing is removed, so JSON lists the scores highest first.
        return kept.ToDictionary(k => labels[k], k => Math.Round(copy[k], 6), StringComparer.Ordinal);
    }
}
