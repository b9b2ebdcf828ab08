namespace MtlHost.Predictions;

/// <summary>
/// The task kinds by name, as <see cref="MtlHost.Core.Inference.TaskPrediction.Kind"/> and an export's description give
/// them: the names of the SDK's <c>TaskKind</c> values, which this TorchSharp-free assembly cannot reference.
/// </summary>
public static class TaskKindNames
{
    /// <summary>One label per text, softmax over the labels.</summary>
    public const string SequenceClassification = "SequenceClassification";

    /// <summary>One label per pair of texts, softmax over the labels.</summary>
    public const string PairClassification = "PairClassification";

    /// <summary>Any number of labels per text, a sigmoid per label.</summary>
    public const string MultiLabelClassification = "MultiLabelClassification";

    /// <summary>One label per whitespace-separated word, read at its first sub-token.</summary>
    public const string TokenClassification = "TokenClassification";

    /// <summary>One number per text.</summary>
    public const string Regression = "Regression";

    /// <summary>Every kind.</summary>
    public static IReadOnlyList<string> All { get; } =
        [SequenceClassification, PairClassification, MultiLabelClassification, TokenClassification, Regression];
}
