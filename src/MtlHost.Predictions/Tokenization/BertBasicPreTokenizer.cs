using System.Text;
using Microsoft.ML.Tokenizers;

namespace MtlHost.Core.Tokenization;

/// <summary>
/// The splitting half of BERT's reference BasicTokenizer: split on whitespace, then make every punctuation
/// character (as BERT defines it, see <see cref="BertCharacterClasses.IsPunctuation"/>) a word of its own.
/// Expects text already passed through <see cref="BertBasicNormalizer"/>, where the only separator left is a space.
/// </summary>
/// <remarks>
/// Replaces the pre-tokenizer Microsoft.ML.Tokenizers' BertTokenizer uses by default, whose regex
/// (<c>\w+|[\p{P}]</c>) drops every character that is neither a word character nor Unicode punctuation,
/// so symbols such as <c>$</c>, <c>+</c>, <c>°</c> or an emoji vanished instead of becoming tokens or [UNK].
/// Special tokens written in the text (e.g. "[SEP]") are not recognised, as in Google's reference: text must not
/// be able to inject structure into an example. Stateless, hence thread-safe.
/// </remarks>
internal sealed class BertBasicPreTokenizer : PreTokenizer
{
    /// <summary>The shared instance; the pre-tokenizer has no state.</summary>
    public static BertBasicPreTokenizer Instance { get; } = new();

    /// <inheritdoc />
    public override IEnumerable<(int Offset, int Length)> PreTokenize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return PreTokenize(text.AsSpan());
    }

    /// <inheritdoc />
    public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text)
    {
        List<(int Offset, int Length)> words = [];
        Split(text, words);
        return words;
    }

    /// <summary>Appends the offset and length of each word of <paramref name="text"/> to <paramref name="words"/>.</summary>
    /// <param name="text">Normalized text.</param>
    /// <param name="words">Receives the words, in order.</param>
    public static void Split(ReadOnlySpan<char> text, List<(int Offset, int Length)> words)
    {
        int wordStart = -1;
        int index = 0;
        while (index < text.Length)
        {
            char c = text[index];
            if (c == ' ')
            {
                Flush(words, ref wordStart, index);
                index++;
                continue;
            }

            int value;
            int width;
            if (c < 0x80 || !char.IsSurrogate(c))
            {
                value = c;
                width = 1;
            }
            else
            {
                Rune.DecodeFromUtf16(text[index..], out Rune rune, out width);
                value = rune.Value;
            }

            if (BertCharacterClasses.IsPunctuation(value))
            {
                Flush(words, ref wordStart, index);
                words.Add((index, width));
            }
            else if (wordStart < 0)
            {
                wordStart = index;
            }

            index += width;
        }

        Flush(words, ref wordStart, text.Length);
    }

    private static void Flush(List<(int Offset, int Length)> words, ref int wordStart, int end)
    {
        if (wordStart >= 0)
        {
            words.Add((wordStart, end - wordStart));
            wordStart = -1;
        }
    }
}
