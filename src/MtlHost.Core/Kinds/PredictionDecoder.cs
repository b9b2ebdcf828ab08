using MtlHost.Abstractions;
using MtlHost.Core.Inference;
using static TorchSharp.torch;

namespace MtlHost.Core.Kinds;

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
        var handler = TaskKindHandler.For(kind);
        var rows = (int)outputs.shape[0];
        var labels = descriptor.Labels;
        var expected = handler.OutputShape(rows, outputs.dim() == 3 ? outputs.shape[1] : -1, labels.Count);
        if (!outputs.shape.SequenceEqual(expected))
        {
            throw new InvalidOperationException(
                $"Task '{descriptor.Id}' ({kind}) output shape [{string.Join(", ", outputs.shape)}], but its kind needs " +
                $"[{string.Join(", ", expected)}]; the head does not fit its task's kind.");
        }

        var values = outputs.detach().to(CPU).to_type(ScalarType.Float32);
        var data = handler.Probabilities(values).contiguous().data<float>().ToArray();
        var length = expected.Length == 3 ? (int)expected[1] : -1;
        var predictions = new TaskPrediction[rows];
        for (var r = 0; r < rows; r++)
        {
            predictions[r] = handler.Decode(new TaskPrediction(descriptor.Id, kind.ToString()), data, r, length, labels, alignments);
        }
        return predictions;
    }

    /// <summary>The index of the largest value (the first of equal ones).</summary>
    /// <param name="values">The values; not empty.</param>
    /// <returns>Its index.</returns>
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

    /// <summary>The <see cref="TaskPrediction.Scores"/> of a row: the most probable labels and every predicted one, highest first.</summary>
    /// <param name="labels">The task's labels.</param>
    /// <param name="probabilities">The row's probability per label.</param>
    /// <param name="predicted">The indices of the predicted labels.</param>
    /// <returns>Probability by label.</returns>
    internal static Dictionary<string, double> Top(IReadOnlyList<string> labels, ReadOnlySpan<float> probabilities, IReadOnlyList<int> predicted)
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
