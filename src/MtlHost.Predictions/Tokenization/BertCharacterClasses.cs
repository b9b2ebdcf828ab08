using System.Globalization;
using System.Text;

namespace MtlHost.Core.Tokenization;

/// <summary>
/// The character predicates of BERT's reference BasicTokenizer (google-research/bert tokenization.py,
/// mirrored by Hugging Face's BertTokenizer), evaluated per Unicode scalar value rather than per UTF-16 unit.
/// </summary>
/// <remarks>
/// Python strings are sequences of code points, so the reference never sees a surrogate half. Classifying
/// UTF-16 units instead would put both halves of every emoji into category Cs and delete it as a "control"
/// character, which is exactly the kind of silent divergence this tokenizer exists to avoid.
/// </remarks>
internal static class BertCharacterClasses
{
    /// <summary>Reference <c>_is_control</c>: every category C* except tab, line feed and carriage return.</summary>
    /// <param name="codePoint">A Unicode scalar value.</param>
    /// <returns><see langword="true"/> when the reference deletes the character while cleaning.</returns>
    public static bool IsControl(int codePoint)
    {
        if (codePoint is '\t' or '\n' or '\r')
        {
            return false;
        }

        return CharUnicodeInfo.GetUnicodeCategory(codePoint) is UnicodeCategory.Control
            or UnicodeCategory.Format
            or UnicodeCategory.Surrogate
            or UnicodeCategory.PrivateUse
            or UnicodeCategory.OtherNotAssigned;
    }

    /// <summary>
    /// Reference <c>_is_whitespace</c> (space, tab, line feed, carriage return, category Zs) plus the two
    /// characters that survive cleaning and that Python's <c>str.split()</c> still splits on.
    /// </summary>
    /// <param name="codePoint">A Unicode scalar value.</param>
    /// <returns><see langword="true"/> when the character separates words.</returns>
    /// <remarks>
    /// U+2028 and U+2029 are neither whitespace for <c>_clean_text</c> nor control characters, so the reference keeps
    /// them, but its <c>whitespace_tokenize</c> uses <c>str.split()</c>, which treats them as separators. Every other
    /// character <c>str.split()</c> splits on is either mapped to a space or deleted before that point.
    /// </remarks>
    public static bool IsWhitespace(int codePoint)
    {
        if (codePoint is ' ' or '\t' or '\n' or '\r' or 0x2028 or 0x2029)
        {
            return true;
        }

        return codePoint > 0x7F && CharUnicodeInfo.GetUnicodeCategory(codePoint) == UnicodeCategory.SpaceSeparator;
    }

    /// <summary>
    /// Reference <c>_is_punctuation</c>: all non-alphanumeric printable ASCII (so <c>$ + &lt; = &gt; ^ ` | ~</c> count,
    /// although Unicode files them as symbols) plus every Unicode category P*.
    /// </summary>
    /// <param name="codePoint">A Unicode scalar value.</param>
    /// <returns><see langword="true"/> when the character becomes a word of its own.</returns>
    public static bool IsPunctuation(int codePoint)
    {
        if (codePoint < 0x80)
        {
            return codePoint is (>= 33 and <= 47) or (>= 58 and <= 64) or (>= 91 and <= 96) or (>= 123 and <= 126);
        }

        return CharUnicodeInfo.GetUnicodeCategory(codePoint) is UnicodeCategory.ConnectorPunctuation
            or UnicodeCategory.DashPunctuation
            or UnicodeCategory.OpenPunctuation
            or UnicodeCategory.ClosePunctuation
            or UnicodeCategory.InitialQuotePunctuation
            or UnicodeCategory.FinalQuotePunctuation
            or UnicodeCategory.OtherPunctuation;
    }

    /// <summary>Reference <c>_is_chinese_char</c>: the CJK ideograph blocks, which become words of their own.</summary>
    /// <param name="codePoint">A Unicode scalar value.</param>
    /// <returns><see langword="true"/> for a CJK unified or compatibility ideograph.</returns>
    public static bool IsChineseCharacter(int codePoint) =>
        codePoint is (>= 0x4E00 and <= 0x9FFF)
            or (>= 0x3400 and <= 0x4DBF)
            or (>= 0x20000 and <= 0x2A6DF)
            or (>= 0x2A700 and <= 0x2B73F)
            or (>= 0x2B740 and <= 0x2B81F)
            or (>= 0x2B820 and <= 0x2CEAF)
            or (>= 0xF900 and <= 0xFAFF)
            or (>= 0x2F800 and <= 0x2FA1F);

    /// <summary>Unicode's <c>Case_Ignorable</c> property, which Python's final-sigma rule skips over.</summary>
    /// <param name="rune">The character to classify.</param>
    /// <returns><see langword="true"/> when the character is transparent to the final-sigma context.</returns>
    public static bool IsCaseIgnorable(Rune rune)
    {
        // Word_Break MidLetter, MidNumLet and Single_Quote; the rest of the property is whole categories.
        if (rune.Value is 0x27 or 0x2E or 0x3A or 0xB7 or 0x387 or 0x55F or 0x5F4 or 0x2018 or 0x2019 or 0x2024
            or 0x2027 or 0xFE13 or 0xFE52 or 0xFE55 or 0xFF07 or 0xFF0E or 0xFF1A)
        {
            return true;
        }

        return Rune.GetUnicodeCategory(rune) is UnicodeCategory.NonSpacingMark
            or UnicodeCategory.EnclosingMark
            or UnicodeCategory.Format
            or UnicodeCategory.ModifierLetter
            or UnicodeCategory.ModifierSymbol;
    }

    /// <summary>Unicode's <c>Cased</c> property, which decides whether a capital sigma ends a word.</summary>
    /// <param name="rune">The character to classify.</param>
    /// <returns><see langword="true"/> for characters with case.</returns>
    public static bool IsCased(Rune rune)
    {
        UnicodeCategory category = Rune.GetUnicodeCategory(rune);
        if (category is UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter)
        {
            return true;
        }

        // Other_Lowercase / Other_Uppercase: mostly letters with case mappings in other categories (Roman numerals,
        // circled letters); the few without a mapping are listed. Modifier letters are case-ignorable, so they
        // never reach this test.
        return Rune.ToLowerInvariant(rune) != rune
            || Rune.ToUpperInvariant(rune) != rune
            || rune.Value is 0xAA or 0xBA or (>= 0x1F130 and <= 0x1F149) or (>= 0x1F150 and <= 0x1F169) or (>= 0x1F170 and <= 0x1F189);
    }
}
