using MtlHost.Abstractions;
using MtlHost.Abstractions.Messages;
using MtlHost.Core.Encoders;
using MtlHost.Core.Inference;
using MtlHost.Core.Tokenization;
using static TorchSharp.torch;

namespace MtlHost.Inference;

/// <summary>
/// The token rows of one prediction call: every encoding every input needs (whole text, words, text pair) goes into one
/// padded batch, and the encoder runs once per encoder branch over just the rows that branch's heads read.
/// </summary>
internal sealed class PredictionBatch
{
    private readonly BertWordPieceTokenizer _tokenizer;
    private readonly int _inputCount;
    private readonly List<EncodedInput> _rows;
    // Per input, its row in _rows for each kind of encoding; -1 when it has none.
    private readonly int[] _textRow;
    private readonly int[] _wordRow;
    private readonly int[] _pairRow;
    private readonly WordAlignment?[] _alignments;

    /// <summary>Encodes the inputs as the heads' task kinds need them.</summary>
    /// <param name="inputs">The inputs, checked.</param>
    /// <param name="heads">The heads to run.</param>
    /// <param name="tokenizer">The shared tokenizer.</param>
    /// <param name="maxLength">Longest token sequence; longer inputs are truncated.</param>
    public PredictionBatch(IReadOnlyList<PredictionInput> inputs, IReadOnlyList<LoadedHead> heads, BertWordPieceTokenizer tokenizer, int maxLength)
    {
        _tokenizer = tokenizer;
        _inputCount = inputs.Count;
        var needText = heads.Any(h => h.Task.Kind is TaskKind.SequenceClassification or TaskKind.MultiLabelClassification or TaskKind.Regression);
        var needWords = heads.Any(h => h.Task.Kind == TaskKind.TokenClassification);
        var needPair = heads.Any(h => h.Task.Kind == TaskKind.PairClassification);

        // Every encoding of every input goes into one padded batch, so the encoder runs exactly once.
        var rows = new List<EncodedInput>();
        var textRow = new int[inputs.Count];
        var wordRow = new int[inputs.Count];
        var pairRow = new int[inputs.Count];
        var alignments = new WordAlignment?[inputs.Count];
        for (var i = 0; i < inputs.Count; i++)
        {
            var input = inputs[i];
            textRow[i] = wordRow[i] = pairRow[i] = -1;
            if (needText)
            {
                textRow[i] = rows.Count;
                rows.Add(_tokenizer.Encode(input.Text, maxLength));
            }
            if (needWords)
            {
                var words = input.Text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
                var encoded = _tokenizer.EncodeWords(words, maxLength);
                alignments[i] = new WordAlignment(words, encoded.WordIds);
                // Word-split text usually tokenizes exactly as the whole text: then the row is shared.
                if (textRow[i] >= 0 && rows[textRow[i]].InputIds.AsSpan().SequenceEqual(encoded.InputIds))
                {
                    wordRow[i] = textRow[i];
                }
                else
                {
                    wordRow[i] = rows.Count;
                    rows.Add(encoded);
                }
            }
            if (needPair && !string.IsNullOrWhiteSpace(input.Pair))
            {
                pairRow[i] = rows.Count;
                rows.Add(_tokenizer.EncodePair(input.Text, input.Pair, maxLength));
            }
        }
        _rows = rows;
        _textRow = textRow;
        _wordRow = wordRow;
        _pairRow = pairRow;
        _alignments = alignments;
    }

    /// <summary>Whether an input has a second text, so that pair-classification heads read it.</summary>
    /// <param name="input">Index of the input.</param>
    /// <returns><see langword="true"/> when it was encoded as a pair.</returns>
    public bool HasPair(int input) => _pairRow[input] >= 0;

    /// <summary>Runs the encoder (once per branch) and every head, and decodes their outputs.</summary>
    /// <param name="encoder">The shared encoder.</param>
    /// <param name="heads">The heads to run, as given to the constructor.</param>
    /// <returns>Per input, in input order, the predictions of the heads that read it.</returns>
    /// <exception cref="InvalidOperationException">A head failed.</exception>
    public List<TaskPrediction>[] Run(BertEncoder encoder, IReadOnlyList<LoadedHead> heads)
    {
        var perInput = Enumerable.Range(0, _inputCount).Select(_ => new List<TaskPrediction>()).ToArray();
        if (_rows.Count > 0)
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            var (ids, types, mask) = Collate(_rows);
            int[] RowOf(LoadedHead head) => head.Task.Kind switch
            {
                TaskKind.TokenClassification => _wordRow,
                TaskKind.PairClassification => _pairRow,
                _ => _textRow,
            };
            // With hard sharing there is one group and so one encoder pass; other strategies need a pass per branch.
            foreach (var group in heads.GroupBy(h => h.Branch))
            {
                var needed = group.SelectMany(h => RowOf(h).Where(r => r >= 0)).Distinct().Order().ToArray();
                if (needed.Length == 0)
                {
                    continue;
                }
                var position = new Dictionary<int, int>();
                for (var p = 0; p < needed.Length; p++)
                {
                    position[needed[p]] = p;
                }
                var (groupIds, groupTypes, groupMask) = needed.Length == _rows.Count
                    ? (ids, types, mask)
                    : Select(needed, ids, types, mask);
                var hidden = group.Key is null
                    ? encoder.forward(groupIds, groupTypes, groupMask)
                    : group.Key.Encode(encoder, groupIds, groupTypes, groupMask).Hidden;
                foreach (var head in group)
                {
                    var rowOf = RowOf(head);
                    var members = Enumerable.Range(0, _inputCount).Where(i => rowOf[i] >= 0).ToArray();
                    if (members.Length == 0)
                    {
                        continue;
                    }
                    var index = tensor(members.Select(i => (long)position[rowOf[i]]).ToArray());
                    var outputs = RunHead(head, hidden.index_select(0, index), groupMask.index_select(0, index));
                    var decoded = PredictionDecoder.Decode(head.Descriptor, outputs,
                        head.Task.Kind == TaskKind.TokenClassification ? members.Select(i => _alignments[i]!).ToArray() : null);
                    for (var m = 0; m < members.Length; m++)
                    {
                        perInput[members[m]].Add(decoded[m]);
                    }
                }
            }
        }
        return perInput;
    }

    private static Tensor RunHead(LoadedHead head, Tensor hidden, Tensor mask)
    {
        try
        {
            return head.Head.forward(hidden, mask);
        }
        catch (Exception e)
        {
            throw new InvalidOperationException($"The head of task '{head.Task.Id}' failed: {ExceptionChain.Describe(e)}", e);
        }
    }

    private static (Tensor Ids, Tensor Types, Tensor Mask) Select(int[] rows, Tensor ids, Tensor types, Tensor mask)
    {
        var index = tensor(rows.Select(r => (long)r).ToArray());
        return (ids.index_select(0, index), types.index_select(0, index), mask.index_select(0, index));
    }

    private (Tensor Ids, Tensor Types, Tensor Mask) Collate(List<EncodedInput> rows)
    {
        var length = rows.Max(r => r.InputIds.Length);
        var ids = new long[rows.Count * length];
        var types = new long[rows.Count * length];
        var mask = new long[rows.Count * length];
        Array.Fill(ids, _tokenizer.PadId);
        for (var r = 0; r < rows.Count; r++)
        {
            var row = rows[r];
            for (var t = 0; t < row.InputIds.Length; t++)
            {
                ids[r * length + t] = row.InputIds[t];
                types[r * length + t] = row.TokenTypeIds[t];
                mask[r * length + t] = 1;
            }
        }
        long[] shape = [rows.Count, length];
        return (tensor(ids, shape), tensor(types, shape), tensor(mask, shape));
    }
}
