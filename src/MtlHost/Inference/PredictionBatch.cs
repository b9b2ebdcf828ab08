using MtlHost.Abstractions.Messages;
using MtlHost.Core.Data;
using MtlHost.Core.Encoders;
using MtlHost.Core.Inference;
using MtlHost.Core.Kinds;
using MtlHost.Core.Tokenization;
using static TorchSharp.torch;

namespace MtlHost.Inference;

/// <summary>
/// The token rows of one prediction call: every encoding every input needs (whole text, words, text pair) goes into one
/// padded batch, and the encoder runs once per encoder branch over just the rows that branch's heads read.
/// </summary>
internal sealed class PredictionBatch
{
    private readonly int _padId;
    private readonly int _inputCount;
    private readonly List<EncodedExample> _rows;
    // Per encoding, per input, its row in _rows; -1 when the input has none.
    private readonly Dictionary<InputEncoding, int[]> _rowOf;
    private readonly WordAlignment?[] _alignments;

    /// <summary>Encodes the inputs as the heads' task kinds need them.</summary>
    /// <param name="inputs">The inputs, checked.</param>
    /// <param name="heads">The heads to run.</param>
    /// <param name="tokenizer">The shared tokenizer.</param>
    /// <param name="maxLength">Longest token sequence; longer inputs are truncated.</param>
    public PredictionBatch(IReadOnlyList<PredictionInput> inputs, IReadOnlyList<LoadedHead> heads, BertWordPieceTokenizer tokenizer, int maxLength)
    {
        _padId = tokenizer.PadId;
        _inputCount = inputs.Count;
        var needed = heads.Select(InputOf).ToHashSet();

        // Every encoding of every input goes into one padded batch, so the encoder runs exactly once.
        var rows = new List<EncodedExample>();
        var textRow = new int[inputs.Count];
        var wordRow = new int[inputs.Count];
        var pairRow = new int[inputs.Count];
        var alignments = new WordAlignment?[inputs.Count];
        for (var i = 0; i < inputs.Count; i++)
        {
            var input = inputs[i];
            textRow[i] = wordRow[i] = pairRow[i] = -1;
            if (needed.Contains(InputEncoding.Text))
            {
                textRow[i] = rows.Count;
                rows.Add(Row(tokenizer.Encode(input.Text, maxLength)));
            }
            if (needed.Contains(InputEncoding.Words))
            {
                var words = input.Text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
                var encoded = tokenizer.EncodeWords(words, maxLength);
                alignments[i] = new WordAlignment(words, encoded.WordIds);
                // Word-split text usually tokenizes exactly as the whole text: then the row is shared.
                if (textRow[i] >= 0 && rows[textRow[i]].InputIds.AsSpan().SequenceEqual(encoded.InputIds))
                {
                    wordRow[i] = textRow[i];
                }
                else
                {
                    wordRow[i] = rows.Count;
                    rows.Add(Row(encoded));
                }
            }
            if (needed.Contains(InputEncoding.Pair) && !string.IsNullOrWhiteSpace(input.Pair))
            {
                pairRow[i] = rows.Count;
                rows.Add(Row(tokenizer.EncodePair(input.Text, input.Pair, maxLength)));
            }
        }
        _rows = rows;
        _rowOf = new Dictionary<InputEncoding, int[]>
        {
            [InputEncoding.Text] = textRow,
            [InputEncoding.Words] = wordRow,
            [InputEncoding.Pair] = pairRow,
        };
        _alignments = alignments;
    }

    /// <summary>Whether an input has a second text, so that pair-classification heads read it.</summary>
    /// <param name="input">Index of the input.</param>
    /// <returns><see langword="true"/> when it was encoded as a pair.</returns>
    public bool HasPair(int input) => _rowOf[InputEncoding.Pair][input] >= 0;

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
            var (ids, types, mask) = BatchCollator.CollateInputs(_rows, _padId, CPU);
            int[] RowOf(LoadedHead head) => _rowOf[InputOf(head)];
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
                        InputOf(head) == InputEncoding.Words ? members.Select(i => _alignments[i]!).ToArray() : null);
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

    private static InputEncoding InputOf(LoadedHead head) => TaskKindHandler.For(head.Task.Kind).Input;

    // The prediction rows carry no targets: only their tokens are collated.
    private static EncodedExample Row(EncodedInput encoded) => new(encoded.InputIds, encoded.TokenTypeIds);
}
