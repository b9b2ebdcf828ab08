using System.Text.Json.Serialization;

namespace MtlHost.Core.Inference;

/// <summary>The label of one word of a token-classification prediction.</summary>
/// <param name="Word">The word, as split from the text on whitespace.</param>
/// <param name="Label">
/// Its label, read at the word's first sub-token (as training labels it); <see langword="null"/> when the word fell
/// beyond the checkpoint's maximum length or yields no token.
/// </param>
/// <param name="Score">Probability of <paramref name="Label"/>; <see langword="null"/> with it.</param>
public sealed record WordPrediction(
    string Word,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Label,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? Score);
