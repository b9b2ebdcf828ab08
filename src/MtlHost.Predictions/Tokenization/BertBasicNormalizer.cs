using System.Buffers;
using System.Globalization;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace MtlHost.Core.Tokenization;

/// <summary>
/// The text-rewriting half of BERT's reference BasicTokenizer for uncased vocabularies: clean, space out CJK
/// ideographs, lower-case, decompose (NFD) and drop nonspacing marks. Splitting is left to
/// <see cref="BertBasicPreTokenizer"/>, which only has to look for spaces and punctuation afterwards.
/// </summary>
/// <remarks>
/// The reference lower-cases and strips accents per whitespace-separated token; doing it once on the whole
/// text gives the same result because every separator has become a plain space by then, and a space neither has
/// case nor is case-ignorable, so no per-token rule can see across it. Stateless, hence thread-safe.
/// </remarks>
internal sealed class BertBasicNormalizer : Normalizer
{
    private const char CapitalSigma = '\u03A3';
    private const char FinalSigma = '\u03C2';
    private const char SmallSigma = '\u03C3';
    private const char CapitalIWithDot = '\u0130';

    /// <summary>The shared instance; the normalizer has no state.</summary>
    public static BertBasicNormalizer Instance { get; } = new();

    /// <inheritdoc />
    public override string Normalize(string original)
    {
        ArgumentNullException.ThrowIfNull(original);
        return Normalize(original.AsSpan());
    }

    /// <inheritdoc />
    public override string Normalize(ReadOnlySpan<char> original)
    {
        if (original.IsEmpty)
        {
            return string.Empty;
        }

        return Ascii.IsValid(original) ? NormalizeAscii(original) : NormalizeUnicode(original);
    }

    // Most training text is plain ASCII, where NFD, accents and special casing cannot occur.
    private static string NormalizeAscii(ReadOnlySpan<char> original)
    {
        char[]? rented = null;
        Span<char> buffer = original.Length <= 512 ? stackalloc char[512] : (rented = ArrayPool<char>.Shared.Rent(original.Length));
        int length = 0;
        foreach (char c in original)
        {
            if (c is '\t' or '\n' or '\r')
            {
                buffer[length++] = ' ';
            }
            else if (c < ' ' || c == '\x7F')
            {
                // Control characters are deleted, not turned into separators: "a\vb" is one word in the reference.
                continue;
            }
            else
            {
                buffer[length++] = c is >= 'A' and <= 'Z' ? (char)(c | 0x20) : c;
            }
        }

        string result = new(buffer[..length]);
        if (rented is not null)
        {
            ArrayPool<char>.Shared.Return(rented);
        }

        return result;
    }

    private static string NormalizeUnicode(ReadOnlySpan<char> original)
    {
        // Spacing out CJK can triple the length (an ideograph becomes " x ").
        char[] cleaned = ArrayPool<char>.Shared.Rent(checked(original.Length * 3));
        char[] lowered = ArrayPool<char>.Shared.Rent(checked(original.Length * 3 * 2));
        try
        {
            int cleanedLength = Clean(original, cleaned);
            int loweredLength = LowerCase(cleaned.AsSpan(0, cleanedLength), lowered);
            string decomposed = new string(lowered, 0, loweredLength).Normalize(NormalizationForm.FormD);
            return RemoveNonspacingMarks(decomposed);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(lowered);
            ArrayPool<char>.Shared.Return(cleaned);
        }
    }

    // Reference _clean_text + _tokenize_chinese_chars.
    private static int Clean(ReadOnlySpan<char> source, Span<char> destination)
    {
        int length = 0;
        int index = 0;
        while (index < source.Length)
        {
            // A lone surrogate is a code point of category Cs to Python, so it is deleted like any control
            // character; decoding it as U+FFFD (also deleted) gives the same outcome.
            Rune.DecodeFromUtf16(source[index..], out Rune rune, out int consumed);
            index += consumed;

            int value = rune.Value;
            if (value is 0 or 0xFFFD || BertCharacterClasses.IsControl(value))
            {
                continue;
            }

            if (BertCharacterClasses.IsWhitespace(value))
            {
                destination[length++] = ' ';
            }
            else if (BertCharacterClasses.IsChineseCharacter(value))
            {
                destination[length++] = ' ';
                length += rune.EncodeToUtf16(destination[length..]);
                destination[length++] = ' ';
            }
            else
            {
                length += rune.EncodeToUtf16(destination[length..]);
            }
        }

        return length;
    }

    // Python's str.lower(): the full lower-case mapping, which differs from .NET's simple mapping in exactly two
    // places that matter here (U+0130 and the context-dependent final sigma).
    private static int LowerCase(ReadOnlySpan<char> source, Span<char> destination)
    {
        int length = 0;
        int index = 0;
        while (index < source.Length)
        {
            Rune.DecodeFromUtf16(source[index..], out Rune rune, out int consumed);
            if (rune.Value == CapitalSigma)
            {
                destination[length++] = IsFinalSigma(source, index) ? FinalSigma : SmallSigma;
            }
            else if (rune.Value == CapitalIWithDot)
            {
                // .NET leaves U+0130 unchanged (its lower case is not a single character); NFD would then turn it
                // into an upper-case "I", which is not in an uncased vocabulary.
                destination[length++] = 'i';
                destination[length++] = '\u0307';
            }
            else
            {
                length += Rune.ToLowerInvariant(rune).EncodeToUtf16(destination[length..]);
            }

            index += consumed;
        }

        return length;
    }

    // Unicode's Final_Sigma condition as CPython implements it: a cased letter before the sigma and none after it,
    // skipping case-ignorable characters on both sides.
    private static bool IsFinalSigma(ReadOnlySpan<char> text, int sigmaIndex)
    {
        bool casedBefore = false;
        int index = sigmaIndex;
        while (index > 0)
        {
            Rune.DecodeLastFromUtf16(text[..index], out Rune rune, out int consumed);
            if (!BertCharacterClasses.IsCaseIgnorable(rune))
            {
                casedBefore = BertCharacterClasses.IsCased(rune);
                break;
            }

            index -= consumed;
        }

        if (!casedBefore)
        {
            return false;
        }

        index = sigmaIndex + 1;
        while (index < text.Length)
        {
            Rune.DecodeFromUtf16(text[index..], out Rune rune, out int consumed);
            if (!BertCharacterClasses.IsCaseIgnorable(rune))
            {
                return !BertCharacterClasses.IsCased(rune);
            }

            index += consumed;
        }

        return true;
    }

    private static string RemoveNonspacingMarks(string decomposed)
    {
        int index = 0;
        while (index < decomposed.Length)
        {
            Rune.DecodeFromUtf16(decomposed.AsSpan(index), out Rune rune, out int consumed);
            if (Rune.GetUnicodeCategory(rune) == UnicodeCategory.NonSpacingMark)
            {
                break;
            }

            index += consumed;
        }

        if (index == decomposed.Length)
        {
            return decomposed;
        }

        char[] buffer = ArrayPool<char>.Shared.Rent(decomposed.Length);
        try
        {
            decomposed.AsSpan(0, index).CopyTo(buffer);
            int length = index;
            while (index < decomposed.Length)
            {
                Rune.DecodeFromUtf16(decomposed.AsSpan(index), out Rune rune, out int consumed);
                if (Rune.GetUnicodeCategory(rune) != UnicodeCategory.NonSpacingMark)
                {
                    decomposed.AsSpan(index, consumed).CopyTo(buffer.AsSpan(length));
                    length += consumed;
                }

                index += consumed;
            }

            return new string(buffer, 0, length);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(buffer);
        }
    }
}
