namespace MtlHost.Core.Data;

/// <summary>
/// A tokenized example and its target, as cached by the host: token ids with segment ids, plus the
/// one target member that the task's kind uses.
/// </summary>
/// <param name="InputIds">WordPiece ids including [CLS] and [SEP].</param>
/// <param name="TokenTypeIds">Segment ids (0 for the first text, 1 for the second).</param>
public sealed record EncodedExample(int[] InputIds, int[] TokenTypeIds)
{
    /// <summary>Label index (single-label kinds).</summary>
    public long Label { get; init; }

    /// <summary>Multi-hot label vector (multi-label kind).</summary>
    public float[]? LabelSet { get; init; }

    /// <summary>Per-token label index aligned to <see cref="InputIds"/>, ignore index elsewhere (token kind).</summary>
    public long[]? TokenLabels { get; init; }

    /// <summary>Target value (regression kind).</summary>
    public float Value { get; init; }
}
