using System.Buffers;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace MtlHost.Core.Tokenization;

/// <summary>
/// BERT's uncased tokenizer (reference BasicTokenizer followed by greedy longest-match-first WordPiece), producing
/// the ids Google's and Hugging Face's reference implementations produce for the same vocabulary.
/// </summary>
/// <remarks>
/// <para>
/// Built on Microsoft.ML.Tokenizers' <see cref="WordPieceTokenizer"/> with a normalizer and pre-tokenizer that
/// reproduce the reference BasicTokenizer. The library's own <see cref="BertTokenizer"/> is not used: with default
/// options it deletes symbols such as <c>$ + &lt; = &gt; ^ ` | ~ ° ©</c> and emoji (dotnet/machinelearning#7725),
/// merges words separated only by a tab or line break (#7724), and keeps accents unless asked not to.
/// </para>
/// <para>
/// Special tokens written in the input text ("[SEP]", "[CLS]", ...) are tokenized as ordinary text, as Google's
/// reference does; Hugging Face's tokenizers would map them to the special ids instead.
/// </para>
/// <para>Immutable after construction, so one instance can be shared by any number of threads.</para>
/// </remarks>
public sealed class BertWordPieceTokenizer
{
    private const string UnknownToken = "[UNK]";
    private const string ClassificationToken = "[CLS]";
    private const string SeparatorToken = "[SEP]";
    private const string PaddingToken = "[PAD]";
    private const string ContinuingSubwordPrefix = "##";

    // The reference's max_input_chars_per_word (Hugging Face's default; Google's original used 200).
    private const int MaxInputCharsPerWord = 100;

    // A generous guess (English averages about four characters per token) so that one piece is almost always enough.
    private const int PieceCharactersPerToken = 8;
    private const int MinimumPieceLength = 1024;

    private static readonly SearchValues<char> AsciiWhitespace = SearchValues.Create(" \t\n\r");

    private readonly WordPieceTokenizer _wordPiece;

    private BertWordPieceTokenizer(WordPieceTokenizer wordPiece, int vocabularySize, int clsId, int sepId, int padId, int unkId)
    {
        _wordPiece = wordPiece;
        VocabularySize = vocabularySize;
        ClsId = clsId;
        SepId = sepId;
        PadId = padId;
        UnkId = unkId;
    }

    /// <summary>Number of entries in the vocabulary, i.e. one more than the largest token id.</summary>
    public int VocabularySize { get; }

    /// <summary>Id of [CLS], which starts every encoded input.</summary>
    public int ClsId { get; }

    /// <summary>Id of [SEP], which ends every text of an encoded input.</summary>
    public int SepId { get; }

    /// <summary>Id of [PAD], for the batcher to fill short rows with.</summary>
    public int PadId { get; }

    /// <summary>Id of [UNK], given to words the vocabulary cannot spell.</summary>
    public int UnkId { get; }

    /// <summary>Creates a tokenizer from a BERT <c>vocab.txt</c>: one token per line, the id being the line number.</summary>
    /// <param name="vocabularyTxt">The vocabulary, UTF-8, with LF or CRLF line endings. Read to the end, not disposed.</param>
    /// <returns>A tokenizer over that vocabulary.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="vocabularyTxt"/> is null.</exception>
    /// <exception cref="InvalidDataException">The vocabulary is empty, repeats a token, or lacks [UNK], [CLS], [SEP] or [PAD].</exception>
    /// <exception cref="NotSupportedException">The vocabulary contains characters outside the Basic Multilingual Plane.</exception>
    public static BertWordPieceTokenizer FromVocabulary(Stream vocabularyTxt)
    {
        ArgumentNullException.ThrowIfNull(vocabularyTxt);

        // The stream is read twice (our checks, then WordPieceTokenizer), and it need not be seekable.
        byte[] bytes;
        using (MemoryStream copy = new())
        {
            vocabularyTxt.CopyTo(copy);
            bytes = copy.ToArray();
        }

        Dictionary<string, int> ids = ReadVocabulary(bytes, out int lineCount);

        WordPieceTokenizer wordPiece = WordPieceTokenizer.Create(
            new MemoryStream(bytes, writable: false),
            new WordPieceOptions
            {
                Normalizer = BertBasicNormalizer.Instance,
                PreTokenizer = BertBasicPreTokenizer.Instance,
                UnknownToken = UnknownToken,
                ContinuingSubwordPrefix = ContinuingSubwordPrefix,
                MaxInputCharsPerWord = MaxInputCharsPerWord,
            });

        return new BertWordPieceTokenizer(
            wordPiece,
            lineCount,
            RequireToken(ids, ClassificationToken),
            RequireToken(ids, SeparatorToken),
            RequireToken(ids, PaddingToken),
            RequireToken(ids, UnknownToken));
    }

    /// <summary>Encodes one text as <c>[CLS] text [SEP]</c>, keeping the first tokens when it is too long.</summary>
    /// <param name="text">The text, raw: any casing, accents, whitespace or control characters.</param>
    /// <param name="maxLength">Maximum number of tokens, [CLS] and [SEP] included; at least 2.</param>
    /// <returns>The ids; token type 0 throughout; word ids index the basic-tokenizer words of <paramref name="text"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxLength"/> is less than 2.</exception>
    public EncodedInput Encode(string text, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 2);

        int budget = maxLength - 2;
        TokenBuffer tokens = new();
        AppendText(text, budget, tokens, fixedWordId: -1);
        return OneSegment(tokens, budget);
    }

    /// <summary>
    /// Encodes a text pair as <c>[CLS] first [SEP] second [SEP]</c> with token types 0 and 1. When too long, tokens are
    /// removed one at a time from the end of whichever text is longer at that moment, from the second text on a tie
    /// (Hugging Face's "longest_first", as its Python tokenizers do it).
    /// </summary>
    /// <param name="first">The first text (token type 0).</param>
    /// <param name="second">The second text (token type 1).</param>
    /// <param name="maxLength">Maximum number of tokens, [CLS] and both [SEP] included; at least 3.</param>
    /// <returns>The ids; word ids count basic-tokenizer words per text, from 0 in each.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="first"/> or <paramref name="second"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxLength"/> is less than 3.</exception>
    public EncodedInput EncodePair(string first, string second, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 3);

        // Neither text can keep more than the whole budget, and removing from the longer one passes through the
        // state where both are capped at it, so each text only needs tokenizing up to the budget.
        int budget = maxLength - 3;
        TokenBuffer a = new();
        TokenBuffer b = new();
        AppendText(first, budget, a, fixedWordId: -1);
        AppendText(second, budget, b, fixedWordId: -1);

        int keepA = Math.Min(a.Count, budget);
        int keepB = Math.Min(b.Count, budget);
        while (keepA + keepB > budget)
        {
            if (keepA > keepB)
            {
                keepA--;
            }
            else
            {
                keepB--;
            }
        }

        Assembler result = new(keepA + keepB + 3);
        result.Add(ClsId, 0, -1);
        result.AddRange(a, keepA, 0);
        result.Add(SepId, 0, -1);
        result.AddRange(b, keepB, 1);
        result.Add(SepId, 1, -1);
        return result.ToEncodedInput();
    }

    /// <summary>
    /// Encodes words that are already split (token classification) as <c>[CLS] words [SEP]</c>. Each word is tokenized
    /// on its own, so a word never merges with its neighbour, and one word may still yield several tokens (punctuation
    /// inside it, word pieces). A word that yields no token (empty, whitespace, control characters) is absent from
    /// <see cref="EncodedInput.WordIds"/>. When too long, trailing tokens are dropped, so the last word kept may have
    /// lost its last pieces, but its first piece is always there.
    /// </summary>
    /// <param name="words">The words, raw.</param>
    /// <param name="maxLength">Maximum number of tokens, [CLS] and [SEP] included; at least 2.</param>
    /// <returns>The ids; token type 0 throughout; word ids index <paramref name="words"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="words"/> or one of its items is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxLength"/> is less than 2.</exception>
    public EncodedInput EncodeWords(IReadOnlyList<string> words, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(words);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 2);

        int budget = maxLength - 2;
        TokenBuffer tokens = new();
        for (int i = 0; i < words.Count && tokens.Count < budget; i++)
        {
            string word = words[i] ?? throw new ArgumentNullException(nameof(words), $"Word {i} is null.");
            AppendText(word, budget, tokens, fixedWordId: i);
        }

        return OneSegment(tokens, budget);
    }

    // [CLS] the first budget tokens [SEP], all of segment 0.
    private EncodedInput OneSegment(TokenBuffer tokens, int budget)
    {
        int count = Math.Min(tokens.Count, budget);
        Assembler result = new(count + 2);
        result.Add(ClsId, 0, -1);
        result.AddRange(tokens, count, 0);
        result.Add(SepId, 0, -1);
        return result.ToEncodedInput();
    }

    /// <summary>Splits a text into WordPiece tokens ("##" marking continuations), without special tokens or truncation.</summary>
    /// <param name="text">The text, raw.</param>
    /// <returns>The tokens as they appear in the vocabulary.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    public IReadOnlyList<string> Tokenize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);

        // The library's own pipeline (our normalizer, then our pre-tokenizer, then WordPiece per word).
        IReadOnlyList<EncodedToken> tokens = _wordPiece.EncodeToTokens(text, out _);
        string[] values = new string[tokens.Count];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = tokens[i].Value;
        }

        return values;
    }

    // Runs the same normalizer and pre-tokenizer the WordPieceTokenizer was built with, but feeds WordPiece one word
    // at a time, which is what tells us which word each token came from.
    //
    // Callers only ever keep a prefix of the tokens, so a long text is processed piece by piece until the budget is
    // met. Pieces end just after an ASCII whitespace character, where the reference's result is a plain concatenation:
    // the character becomes a separator, and no rule (NFD reordering, final sigma, CJK spacing) looks across one.
    private void AppendText(string text, int budget, TokenBuffer tokens, int fixedWordId)
    {
        int pieceLength = (int)Math.Min(int.MaxValue, Math.Max(MinimumPieceLength, (long)budget * PieceCharactersPerToken));
        int start = 0;
        int wordsBefore = 0;
        while (start < text.Length && tokens.Count < budget)
        {
            int end = PieceEnd(text, start, pieceLength);
            wordsBefore += AppendPiece(text.AsSpan(start, end - start), budget, tokens, fixedWordId, wordsBefore);
            start = end;
        }
    }

    private int AppendPiece(ReadOnlySpan<char> piece, int budget, TokenBuffer tokens, int fixedWordId, int wordsBefore)
    {
        string normalized = BertBasicNormalizer.Instance.Normalize(piece);
        List<(int Offset, int Length)> words = [];
        BertBasicPreTokenizer.Split(normalized, words);

        for (int w = 0; w < words.Count && tokens.Count < budget; w++)
        {
            (int offset, int length) = words[w];
            IReadOnlyList<int> ids = _wordPiece.EncodeToIds(
                normalized.AsSpan(offset, length),
                considerPreTokenization: false,
                considerNormalization: false);
            int wordId = fixedWordId >= 0 ? fixedWordId : wordsBefore + w;
            for (int i = 0; i < ids.Count; i++)
            {
                tokens.Add(ids[i], wordId);
            }
        }

        return words.Count;
    }

    private static int PieceEnd(string text, int start, int pieceLength)
    {
        if (text.Length - start <= pieceLength)
        {
            return text.Length;
        }

        int separator = text.AsSpan(start + pieceLength).IndexOfAny(AsciiWhitespace);
        return separator < 0 ? text.Length : start + pieceLength + separator + 1;
    }

    private static Dictionary<string, int> ReadVocabulary(byte[] bytes, out int lineCount)
    {
        // Same reader settings WordPieceTokenizer uses (UTF-8, BOM detection, CR, LF and CRLF all end a line), so line
        // numbers agree with the ids it assigns. It skips empty lines but still counts them, and so do we.
        Dictionary<string, int> ids = new(StringComparer.Ordinal);
        using StreamReader reader = new(new MemoryStream(bytes, writable: false), Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        lineCount = 0;
        while (reader.ReadLine() is { } line)
        {
            if (line.Length != 0)
            {
                if (!ids.TryAdd(line, lineCount))
                {
                    throw new InvalidDataException(
                        $"The vocabulary lists token '{line}' twice (lines {ids[line] + 1} and {lineCount + 1}); each token must appear once.");
                }

                if (ContainsSupplementaryCharacter(line))
                {
                    // WordPieceTokenizer measures words in UTF-16 units, the reference in code points. The two only agree
                    // when no token holds a character beyond U+FFFF: then a word with such a character is [UNK] either way.
                    throw new NotSupportedException(
                        $"Vocabulary token '{line}' (line {lineCount + 1}) contains a character outside the Basic Multilingual Plane; "
                        + "this tokenizer only supports vocabularies without such characters, like BERT's uncased English vocabulary.");
                }
            }

            lineCount++;
        }

        if (lineCount == 0)
        {
            throw new InvalidDataException("The vocabulary is empty; expected a BERT vocab.txt with one token per line.");
        }

        return ids;
    }

    private static bool ContainsSupplementaryCharacter(string token)
    {
        foreach (char c in token)
        {
            if (char.IsSurrogate(c))
            {
                return true;
            }
        }

        return false;
    }

    private static int RequireToken(Dictionary<string, int> ids, string token) =>
        ids.TryGetValue(token, out int id)
            ? id
            : throw new InvalidDataException($"The vocabulary has no {token} token; a BERT vocab.txt must contain [PAD], [UNK], [CLS] and [SEP].");

    // Token ids with the word each came from, grown as a text is tokenized.
    private sealed class TokenBuffer
    {
        public List<int> Ids { get; } = [];

        public List<int> WordIds { get; } = [];

        public int Count => Ids.Count;

        public void Add(int id, int wordId)
        {
            Ids.Add(id);
            WordIds.Add(wordId);
        }
    }

    private sealed class Assembler(int length)
    {
        private readonly int[] _inputIds = new int[length];
        private readonly int[] _tokenTypeIds = new int[length];
        private readonly int[] _wordIds = new int[length];
        private int _count;

        public void Add(int id, int tokenType, int wordId)
        {
            _inputIds[_count] = id;
            _tokenTypeIds[_count] = tokenType;
            _wordIds[_count] = wordId;
            _count++;
        }

        public void AddRange(TokenBuffer tokens, int count, int tokenType)
        {
            for (int i = 0; i < count; i++)
            {
                Add(tokens.Ids[i], tokenType, tokens.WordIds[i]);
            }
        }

        public EncodedInput ToEncodedInput() => new(_inputIds, _tokenTypeIds, _wordIds);
    }
}
