namespace MtlHost.Core.Inference;

/// <summary>Which word each token of an encoded row came from, so token outputs can be read back per word.</summary>
/// <param name="Words">The words the row was encoded from.</param>
/// <param name="WordIds">Per token of the row, the index into <paramref name="Words"/>, or -1 for special tokens.</param>
public sealed record WordAlignment(IReadOnlyList<string> Words, IReadOnlyList<int> WordIds);
