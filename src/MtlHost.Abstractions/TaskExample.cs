namespace MtlHost.Abstractions;

/// <summary>
/// One raw example as a dataset adapter yields it. The host tokenizes it with the shared tokenizer,
/// so adapters never see token ids. Which members are set depends on the task's
/// <see cref="TaskKind"/>; the static factory methods build the valid combinations.
/// </summary>
public sealed class TaskExample
{
    /// <summary>The text (the first text of a pair).</summary>
    public string? Text { get; init; }

    /// <summary>The second text of a <see cref="TaskKind.PairClassification"/> example.</summary>
    public string? TextPair { get; init; }

    /// <summary>Pre-split words of a <see cref="TaskKind.TokenClassification"/> example.</summary>
    public IReadOnlyList<string>? Words { get; init; }

    /// <summary>
    /// One label per word, parallel to <see cref="Words"/>; a <see langword="null"/> entry marks a word without a label,
    /// which the loss and the metric skip (a word the annotation leaves open).
    /// </summary>
    public IReadOnlyList<string?>? WordLabels { get; init; }

    /// <summary>The label of a single-label classification example.</summary>
    public string? Label { get; init; }

    /// <summary>The labels of a <see cref="TaskKind.MultiLabelClassification"/> example.</summary>
    public IReadOnlyList<string>? LabelSet { get; init; }

    /// <summary>The target of a <see cref="TaskKind.Regression"/> example.</summary>
    public double? Value { get; init; }

    /// <summary>Where the example came from (for example <c>train.jsonl:17</c>), for error messages.</summary>
    public string? Source { get; init; }

    /// <summary>A text with one label (sequence classification).</summary>
    /// <param name="text">The text.</param>
    /// <param name="label">One of the task's labels.</param>
    /// <param name="source">Where the example came from, for error messages.</param>
    /// <returns>The example.</returns>
    public static TaskExample ForText(string text, string label, string? source = null) =>
        new() { Text = text, Label = label, Source = source };

    /// <summary>Two texts with one label (pair classification).</summary>
    /// <param name="first">The first text.</param>
    /// <param name="second">The second text.</param>
    /// <param name="label">One of the task's labels.</param>
    /// <param name="source">Where the example came from, for error messages.</param>
    /// <returns>The example.</returns>
    public static TaskExample ForPair(string first, string second, string label, string? source = null) =>
        new() { Text = first, TextPair = second, Label = label, Source = source };

    /// <summary>A text with a set of labels (multi-label classification).</summary>
    /// <param name="text">The text.</param>
    /// <param name="labels">Zero or more of the task's labels.</param>
    /// <param name="source">Where the example came from, for error messages.</param>
    /// <returns>The example.</returns>
    public static TaskExample ForLabelSet(string text, IReadOnlyList<string> labels, string? source = null) =>
        new() { Text = text, LabelSet = labels, Source = source };

    /// <summary>Words with one label each (token classification).</summary>
    /// <param name="words">The words, already split.</param>
    /// <param name="wordLabels">One label per word; <see langword="null"/> for a word without a label.</param>
    /// <param name="source">Where the example came from, for error messages.</param>
    /// <returns>The example.</returns>
    public static TaskExample ForWords(IReadOnlyList<string> words, IReadOnlyList<string?> wordLabels, string? source = null) =>
        new() { Words = words, WordLabels = wordLabels, Source = source };

    /// <summary>A text with a real-valued target (regression).</summary>
    /// <param name="text">The text.</param>
    /// <param name="value">The target value.</param>
    /// <param name="source">Where the example came from, for error messages.</param>
    /// <returns>The example.</returns>
    public static TaskExample ForValue(string text, double value, string? source = null) =>
        new() { Text = text, Value = value, Source = source };
}
