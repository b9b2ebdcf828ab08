namespace MtlHost.Core.Tokenization;

/// <summary>Token ids of one example, ready for batching (no padding; the batcher pads per batch).</summary>
/// <param name="InputIds">Vocabulary ids, starting with [CLS] and ending with [SEP].</param>
/// <param name="TokenTypeIds">Segment of each token: 0 for the first text and its [CLS]/[SEP], 1 for the second text of a pair and its closing [SEP].</param>
/// <param name="WordIds">
/// For each token, the word it came from, or -1 for [CLS] and [SEP]. For
/// <see cref="BertWordPieceTokenizer.EncodeWords"/> this is the index of the caller's word. For
/// <see cref="BertWordPieceTokenizer.Encode"/> and <see cref="BertWordPieceTokenizer.EncodePair"/> it is the index of the
/// basic-tokenizer word (whitespace and punctuation split, so "don't" is three words) within its own text, counted
/// from 0 again in the second text of a pair.
/// </param>
public sealed record EncodedInput(int[] InputIds, int[] TokenTypeIds, int[] WordIds);
