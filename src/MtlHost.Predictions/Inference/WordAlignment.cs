using MtlHost.Predictions;

namespace MtlHost.Core.Inference;

/// <summary>Which word each token of an encoded row came from, so token outputs can be read back per word.</summary>
/// <param name="Words">The words the row was encoded from.</param>
/// <param name="WordIds">Per token of the row, the index into <paramref name="Words"/>, or -1 for special tokens.</param>
public sealed record WordAlignment(IReadOnlyList<string> Words, IReadOnlyList<int> WordIds)
{
    /// <summary>
    /// Per word, the position of its first sub-token in a row of <paramref name="length"/> tokens, which carries the
    /// word's label as the training targets put it; -1 for a word truncated away.
    /// </summary>
    /// <param name="length">The row's length.</param>
    /// <returns>One position per word.</returns>
    public int[] FirstTokens(int length)
    {
        var firstToken = new int[Words.Count];
        Array.Fill(firstToken, -1);
        for (var t = WordIds.Count - 1; t >= 0; t--)
        {
            var word = WordIds[t];
            if (word >= 0 && word < firstToken.Length && t < length)
            {
                firstToken[word] = t;
            }
        }
        return firstToken;
    }

    /// <summary>
    /// Each word's label: the most probable one at the word's first sub-token (<see cref="FirstTokens"/>), with its
    /// probability rounded to six digits; a word truncated away gets neither.
    /// </summary>
    /// <param name="labels">The task's labels.</param>
    /// <param name="length">The row's length.</param>
    /// <param name="probabilitiesAt">The label probabilities of a token of the row.</param>
    /// <returns>One prediction per word, in order.</returns>
    public List<WordPrediction> Decode(IReadOnlyList<string> labels, int length, TokenProbabilities probabilitiesAt)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(probabilitiesAt);
        var firstToken = FirstTokens(length);
        var words = new List<WordPrediction>(Words.Count);
        for (var w = 0; w < Words.Count; w++)
        {
            if (firstToken[w] < 0)
            {
                words.Add(new WordPrediction(Words[w], null, null));
                continue;
            }
            var probabilities = probabilitiesAt(firstToken[w]);
            var best = OutputDecoder.ArgMax(probabilities);
            words.Add(new WordPrediction(Words[w], labels[best], Math.Round(probabilities[best], 6)));
        }
        return words;
    }
}
