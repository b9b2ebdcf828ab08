namespace MtlHost.Core.Inference;

/// <summary>The label probabilities a token task's head gave one token of a row, one per label.</summary>
/// <param name="token">The token's position in the row.</param>
public delegate ReadOnlySpan<float> TokenProbabilities(int token);
