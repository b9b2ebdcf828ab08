using System.Text.Json.Serialization;

namespace MtlHost.Core.Inference;

/// <summary>
/// What one task predicts for one input. Which member is set depends on the task's kind: <see cref="Label"/> for
/// sequence and pair classification, <see cref="Labels"/> for multi-label, <see cref="Words"/> for token
/// classification, <see cref="Value"/> for regression.
/// </summary>
/// <param name="TaskId">The task.</param>
/// <param name="Kind">Its kind (a <c>TaskKind</c> name).</param>
public sealed record TaskPrediction(string TaskId, string Kind)
{
    /// <summary>The most probable label (sequence and pair classification).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Label { get; init; }

    /// <summary>Every label whose probability is at least 0.5, most probable first (multi-label).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Labels { get; init; }

    /// <summary>The predicted number (regression).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? Value { get; init; }

    /// <summary>One label per whitespace-separated word of the text (token classification).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<WordPrediction>? Words { get; init; }

    /// <summary>
    /// Probabilities by label: softmax over the labels for single-label kinds, each label's sigmoid for multi-label;
    /// the most probable few (and every predicted label), highest first. Empty for token classification and regression.
    /// </summary>
    public IReadOnlyDictionary<string, double> Scores { get; init; } = new Dictionary<string, double>();
}
