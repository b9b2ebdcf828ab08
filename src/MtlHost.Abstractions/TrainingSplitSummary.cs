namespace MtlHost.Abstractions;

/// <summary>
/// What the host knows of a task's training split once it has read it: how many examples, and how often each label
/// occurs. A loss or head that implements <see cref="ITrainingSplitAware"/> receives it before the first training step, for
/// example to weight rare labels.
/// </summary>
public sealed class TrainingSplitSummary
{
    /// <summary>Creates a summary.</summary>
    /// <param name="examples">Training examples.</param>
    /// <param name="labelCounts">
    /// Per label, in <see cref="TaskDescriptor.Labels"/> order: the examples carrying it (sequence, pair and multi-label
    /// classification) or the labelled words carrying it (token classification); empty for regression.
    /// </param>
    public TrainingSplitSummary(int examples, IReadOnlyList<long> labelCounts)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(examples);
        ArgumentNullException.ThrowIfNull(labelCounts);
        Examples = examples;
        LabelCounts = labelCounts.ToArray();
    }

    /// <summary>Training examples.</summary>
    public int Examples { get; }

    /// <summary>Per label: the examples (or, for token classification, the labelled words) that carry it.</summary>
    public IReadOnlyList<long> LabelCounts { get; }
}
