using MtlHost.Core.Inference;

namespace MtlHost.Predictions;

/// <summary>
/// Turns a head's raw outputs (float arrays) into predictions by the rules of the host's <c>PredictionDecoder</c>, which
/// decodes TorchSharp tensors: softmax over the labels for sequence and pair classification (the label and the top five
/// scores), a sigmoid per label kept at 0.5 or above for multi-label, a softmax per word's first sub-token for token
/// classification, and the number itself for regression. Scores are rounded to six digits as there.
/// </summary>
public static class OutputDecoder
{
    /// <summary>How many labels <see cref="TaskPrediction.Scores"/> keeps at most, besides the predicted ones.</summary>
    public const int TopScores = 5;

    /// <summary>Probability a multi-label label needs to be predicted.</summary>
    public const double MultiLabelThreshold = 0.5;

    /// <summary>Decodes one row of a head's outputs.</summary>
    /// <param name="taskId">The task.</param>
    /// <param name="kind">Its kind (<see cref="TaskKindNames"/>).</param>
    /// <param name="labels">Its labels in index order (empty for regression).</param>
    /// <param name="row">
    /// The row's outputs: [L] logits (classification, multi-label), [T, L] logits (token classification) or one value (regression).
    /// </param>
    /// <param name="alignment">For token classification, the row's words; ignored otherwise.</param>
    /// <returns>The prediction.</returns>
    /// <exception cref="ArgumentException">The row does not have the size the kind needs, or a token row has no alignment.</exception>
    public static TaskPrediction Decode(string taskId, string kind, IReadOnlyList<string> labels, ReadOnlySpan<float> row, WordAlignment? alignment = null)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var prediction = new TaskPrediction(taskId, kind);
        switch (kind)
        {
            case TaskKindNames.SequenceClassification or TaskKindNames.PairClassification:
            {
                var probabilities = Softmax(Require(taskId, kind, row, labels.Count));
                var best = ArgMax(probabilities);
                return prediction with { Label = labels[best], Scores = Top(labels, probabilities, [best]) };
            }
            case TaskKindNames.MultiLabelClassification:
            {
                var probabilities = Require(taskId, kind, row, labels.Count).ToArray().Select(Sigmoid).ToArray();
                var ordered = Enumerable.Range(0, probabilities.Length).Where(k => probabilities[k] >= MultiLabelThreshold)
                    .OrderByDescending(k => probabilities[k]).ToList();
                return prediction with { Labels = ordered.Select(k => labels[k]).ToArray(), Scores = Top(labels, probabilities, ordered) };
            }
            case TaskKindNames.TokenClassification:
            {
                if (alignment is null)
                {
                    throw new ArgumentException($"Task '{taskId}' is token classification: pass the words of the row.", nameof(alignment));
                }
                if (labels.Count == 0 || row.Length % labels.Count != 0)
                {
                    throw new ArgumentException($"Task '{taskId}' ({kind}) has {row.Length} outputs for a row, not a multiple of its {labels.Count} labels.", nameof(row));
                }
                // The lambda below cannot hold the span itself.
                var logits = row.ToArray();
                return prediction with
                {
                    Words = alignment.Decode(labels, row.Length / labels.Count, t => Softmax(logits.AsSpan(t * labels.Count, labels.Count))),
                };
            }
            case TaskKindNames.Regression:
                return prediction with { Value = Require(taskId, kind, row, 1)[0] };
            default:
                throw new ArgumentException($"Task '{taskId}' is of kind '{kind}', which has no decoding; the kinds are {string.Join(", ", TaskKindNames.All)}.", nameof(kind));
        }
    }

    private static ReadOnlySpan<float> Require(string taskId, string kind, ReadOnlySpan<float> row, int size)
    {
        if (row.Length != size)
        {
            throw new ArgumentException($"Task '{taskId}' ({kind}) has {row.Length} outputs for a row, but its kind needs {size}.", nameof(row));
        }
        return row;
    }

    // In double, then rounded to float as the TorchSharp decoder's float32 softmax gives its scores.
    private static float[] Softmax(ReadOnlySpan<float> logits)
    {
        var max = double.NegativeInfinity;
        foreach (var x in logits)
        {
            max = Math.Max(max, x);
        }
        var exps = new double[logits.Length];
        var sum = 0.0;
        for (var k = 0; k < logits.Length; k++)
        {
            exps[k] = Math.Exp(logits[k] - max);
            sum += exps[k];
        }
        return exps.Select(e => (float)(e / sum)).ToArray();
    }

    private static float Sigmoid(float x) => (float)(1 / (1 + Math.Exp(-x)));

    /// <summary>The index of the largest value (the first of equal ones).</summary>
    internal static int ArgMax(ReadOnlySpan<float> values)
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

    private static Dictionary<string, double> Top(IReadOnlyList<string> labels, float[] probabilities, IReadOnlyList<int> predicted)
    {
        var order = Enumerable.Range(0, probabilities.Length).ToArray();
        Array.Sort(order, (a, b) => probabilities[b].CompareTo(probabilities[a]));
        var kept = order.Take(TopScores).Union(predicted).OrderByDescending(k => probabilities[k]);
        // Insertion order is kept by Dictionary when nothing is removed, so JSON lists the scores highest first.
        return kept.ToDictionary(k => labels[k], k => Math.Round(probabilities[k], 6), StringComparer.Ordinal);
    }
}
