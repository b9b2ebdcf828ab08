using MtlHost.Core.Inference;
using MtlHost.Core.Tokenization;

namespace MtlHost.Predictions;

/// <summary>
/// The token rows one prediction call needs: per input, the encodings the asked tasks' kinds read (the whole text for
/// sequence, multi-label and regression tasks, the whitespace-separated words for token tasks, text and pair for pair
/// tasks), all in one list so that the encoder runs once over every row.
/// </summary>
/// <remarks>
/// The same rows as the TorchSharp predictor's <c>PredictionBatch</c> builds, so both predictors see the same tokens.
/// </remarks>
public sealed class PredictionRows
{
    private readonly int[] _textRow;
    private readonly int[] _wordRow;
    private readonly int[] _pairRow;
    private readonly WordAlignment?[] _alignments;

    /// <summary>Encodes the inputs for tasks of the given kinds.</summary>
    /// <param name="inputs">The inputs; texts must not be empty.</param>
    /// <param name="kinds">The kinds of the tasks to predict (<see cref="TaskKindNames"/>).</param>
    /// <param name="tokenizer">The tokenizer of the encoder's vocabulary.</param>
    /// <param name="maxLength">Longest token sequence; longer inputs are truncated as in training.</param>
    public PredictionRows(IReadOnlyList<PredictionInput> inputs, IReadOnlyCollection<string> kinds, BertWordPieceTokenizer tokenizer, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(kinds);
        ArgumentNullException.ThrowIfNull(tokenizer);
        var needText = kinds.Any(k => k is TaskKindNames.SequenceClassification or TaskKindNames.MultiLabelClassification or TaskKindNames.Regression);
        var needWords = kinds.Contains(TaskKindNames.TokenClassification);
        var needPair = kinds.Contains(TaskKindNames.PairClassification);
        var rows = new List<EncodedInput>();
        _textRow = new int[inputs.Count];
        _wordRow = new int[inputs.Count];
        _pairRow = new int[inputs.Count];
        _alignments = new WordAlignment?[inputs.Count];
        for (var i = 0; i < inputs.Count; i++)
        {
            var input = inputs[i];
            _textRow[i] = _wordRow[i] = _pairRow[i] = -1;
            if (needText)
            {
                _textRow[i] = rows.Count;
                rows.Add(tokenizer.Encode(input.Text, maxLength));
            }
            if (needWords)
            {
                var words = input.Text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
                var encoded = tokenizer.EncodeWords(words, maxLength);
                _alignments[i] = new WordAlignment(words, encoded.WordIds);
                // Word-split text usually tokenizes exactly as the whole text: then the row is shared.
                if (_textRow[i] >= 0 && rows[_textRow[i]].InputIds.AsSpan().SequenceEqual(encoded.InputIds))
                {
                    _wordRow[i] = _textRow[i];
                }
                else
                {
                    _wordRow[i] = rows.Count;
                    rows.Add(encoded);
                }
            }
            if (needPair && !string.IsNullOrWhiteSpace(input.Pair))
            {
                _pairRow[i] = rows.Count;
                rows.Add(tokenizer.EncodePair(input.Text, input.Pair, maxLength));
            }
        }
        Rows = rows;
        PadId = tokenizer.PadId;
    }

    /// <summary>Every encoded row, in the order the inputs needed them.</summary>
    public IReadOnlyList<EncodedInput> Rows { get; }

    /// <summary>The longest row's length: the width of the padded batch.</summary>
    public int Length => Rows.Count == 0 ? 0 : Rows.Max(r => r.InputIds.Length);

    private int PadId { get; }

    /// <summary>Per input, the row tasks of <paramref name="kind"/> read, or -1 when the input has none (a pair task without a pair).</summary>
    /// <param name="kind">A task kind (<see cref="TaskKindNames"/>).</param>
    /// <returns>One row index per input.</returns>
    public IReadOnlyList<int> RowsOf(string kind) => kind switch
    {
        TaskKindNames.TokenClassification => _wordRow,
        TaskKindNames.PairClassification => _pairRow,
        _ => _textRow,
    };

    /// <summary>Whether an input has a second text, so that pair-classification tasks read it.</summary>
    /// <param name="input">Index of the input.</param>
    /// <returns><see langword="true"/> when it was encoded as a pair.</returns>
    public bool HasPair(int input) => _pairRow[input] >= 0;

    /// <summary>The words of an input and the word of each token of its word row (token classification).</summary>
    /// <param name="input">Index of the input.</param>
    /// <returns>The alignment; <see langword="null"/> when no token task was asked for.</returns>
    public WordAlignment? AlignmentOf(int input) => _alignments[input];

    /// <summary>
    /// The rows as one padded batch, row-major [rows, <see cref="Length"/>]: token ids (padding is [PAD]), token type ids
    /// and the attention mask (1 for tokens, 0 for padding).
    /// </summary>
    /// <returns>The three arrays.</returns>
    public (long[] InputIds, long[] TokenTypeIds, long[] AttentionMask) Collate()
    {
        var length = Length;
        var ids = new long[Rows.Count * length];
        var types = new long[Rows.Count * length];
        var mask = new long[Rows.Count * length];
        Array.Fill(ids, PadId);
        for (var r = 0; r < Rows.Count; r++)
        {
            var row = Rows[r];
            for (var t = 0; t < row.InputIds.Length; t++)
            {
                ids[r * length + t] = row.InputIds[t];
                types[r * length + t] = row.TokenTypeIds[t];
                mask[r * length + t] = 1;
            }
        }
        return (ids, types, mask);
    }
}
