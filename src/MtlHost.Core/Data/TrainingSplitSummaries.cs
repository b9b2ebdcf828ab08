using MtlHost.Abstractions;

namespace MtlHost.Core.Data;

/// <summary>Counts what a task's parts may adapt to (<see cref="ITrainingSplitAware"/>) from its encoded training examples.</summary>
public static class TrainingSplitSummaries
{
    /// <summary>How often each label of <paramref name="descriptor"/> occurs in <paramref name="train"/>.</summary>
    /// <param name="train">The encoded training split.</param>
    /// <param name="descriptor">The task.</param>
    /// <returns>The summary.</returns>
    public static TrainingSplitSummary Of(IReadOnlyList<EncodedExample> train, TaskDescriptor descriptor)
    {
        var counts = new long[descriptor.Kind == TaskKind.Regression ? 0 : descriptor.Labels.Count];
        foreach (var example in train)
        {
            switch (descriptor.Kind)
            {
                case TaskKind.SequenceClassification or TaskKind.PairClassification:
                    counts[example.Label]++;
                    break;
                case TaskKind.MultiLabelClassification:
                    for (var i = 0; i < counts.Length && i < (example.LabelSet?.Length ?? 0); i++)
                    {
                        if (example.LabelSet![i] > 0)
                        {
                            counts[i]++;
                        }
                    }
                    break;
                case TaskKind.TokenClassification:
                    foreach (var label in example.TokenLabels ?? [])
                    {
                        if (label != TaskTargets.IgnoreIndex)
                        {
                            counts[label]++;
                        }
                    }
                    break;
            }
        }
        return new TrainingSplitSummary(train.Count, counts);
    }
}
