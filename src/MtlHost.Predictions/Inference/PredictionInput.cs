namespace MtlHost.Core.Inference;

/// <summary>One text to predict on, with the second text that pair-classification tasks need.</summary>
/// <param name="Text">The text (the first text of a pair). Token-classification tasks label its whitespace-separated words.</param>
/// <param name="Pair">The second text for pair-classification tasks; without it those tasks are skipped (with a note).</param>
public sealed record PredictionInput(string Text, string? Pair = null);
