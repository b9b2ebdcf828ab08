using static TorchSharp.torch;

namespace MtlHost.Abstractions;

/// <summary>
/// Token-classification scores. <c>token_accuracy</c> is the share of labelled words (first
/// sub-tokens) whose label is right. When the labels are BIO tags (<c>O</c>, <c>B-type</c>,
/// <c>I-type</c>) it also reports span scores as seqeval does in its default mode: each sentence's
/// tags are read into spans (type, first word, last word) — a span starts at a <c>B-</c> tag, or at an
/// <c>I-</c> tag that follows <c>O</c> or a tag of another type, and ends before the next tag that does
/// not continue it — and a predicted span counts only if a true span has exactly the same type, start and
/// end. <c>span_precision</c> = correct / predicted spans, <c>span_recall</c> = correct / true spans,
/// <c>span_f1</c> their harmonic mean (0 when there is nothing to compare), summed over all sentences
/// (micro average). The primary score is <c>span_f1</c> for BIO labels, <c>token_accuracy</c> otherwise.
/// </summary>
public sealed class TokenClassificationMetric : ITaskMetric
{
    /// <summary>The label of a word outside every span.</summary>
    public const string Outside = "O";

    private readonly string[] _labels;
    private readonly bool _isBio;
    private long _words;
    private long _correctWords;
    private long _trueSpans;
    private long _predictedSpans;
    private long _correctSpans;

    /// <summary>Creates an empty metric.</summary>
    /// <param name="labels">The task's labels in index order.</param>
    public TokenClassificationMetric(IReadOnlyList<string> labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        _labels = [.. labels];
        _isBio = _labels.Any(l => l.StartsWith("B-", StringComparison.Ordinal)) &&
                 _labels.All(l => l == Outside || (l.Length > 2 && (l.StartsWith("B-", StringComparison.Ordinal) || l.StartsWith("I-", StringComparison.Ordinal))));
    }

    /// <summary>Whether the labels are BIO tags, so that span scores are reported.</summary>
    public bool ReportsSpans => _isBio;

    /// <inheritdoc />
    public string PrimaryScore => _isBio ? "span_f1" : "token_accuracy";

    /// <inheritdoc />
    public bool HigherIsBetter => true;

    /// <inheritdoc />
    public void Reset()
    {
        _words = _correctWords = _trueSpans = _predictedSpans = _correctSpans = 0;
    }

    /// <inheritdoc />
    public void Update(Tensor outputs, Tensor targets)
    {
        using var argmax = outputs.argmax(-1);
        using var predicted = argmax.cpu();
        using var actual = targets.cpu();
        var rows = actual.shape[0];
        var length = actual.shape.Length > 1 ? actual.shape[1] : 1;
        var p = predicted.data<long>().ToArray();
        var t = actual.data<long>().ToArray();
        var predictedTags = new List<string>();
        var trueTags = new List<string>();
        for (var row = 0; row < rows; row++)
        {
            predictedTags.Clear();
            trueTags.Clear();
            for (var position = 0; position < length; position++)
            {
                var i = row * length + position;
                if (t[i] == TaskTargets.IgnoreIndex)
                {
                    continue;
                }
                trueTags.Add(_labels[t[i]]);
                predictedTags.Add(_labels[p[i]]);
            }
            Update(predictedTags, trueTags);
        }
    }

    /// <summary>Adds one sentence's predicted and true labels, one per word.</summary>
    /// <param name="predicted">Predicted label per word.</param>
    /// <param name="actual">True label per word.</param>
    public void Update(IReadOnlyList<string> predicted, IReadOnlyList<string> actual)
    {
        ArgumentNullException.ThrowIfNull(predicted);
        ArgumentNullException.ThrowIfNull(actual);
        if (predicted.Count != actual.Count)
        {
            throw new ArgumentException($"{predicted.Count} predicted labels for {actual.Count} words.", nameof(predicted));
        }
        for (var i = 0; i < actual.Count; i++)
        {
            _words++;
            if (string.Equals(predicted[i], actual[i], StringComparison.Ordinal))
            {
                _correctWords++;
            }
        }
        if (!_isBio)
        {
            return;
        }
        var trueSpans = Spans(actual);
        var predictedSpans = Spans(predicted);
        _trueSpans += trueSpans.Count;
        _predictedSpans += predictedSpans.Count;
        _correctSpans += predictedSpans.Count(trueSpans.Contains);
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, double> Compute()
    {
        var scores = new Dictionary<string, double>
        {
            ["token_accuracy"] = _words == 0 ? 0 : (double)_correctWords / _words,
        };
        if (_isBio)
        {
            var precision = _predictedSpans == 0 ? 0 : (double)_correctSpans / _predictedSpans;
            var recall = _trueSpans == 0 ? 0 : (double)_correctSpans / _trueSpans;
            scores["span_precision"] = precision;
            scores["span_recall"] = recall;
            scores["span_f1"] = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
        }
        return scores;
    }

    // seqeval's get_entities for IOB2 with conlleval's leniency: an I- tag that does not continue a
    // span of its type opens one, so a prediction of "I-X I-X" still counts as one X span.
    private static HashSet<(string Type, int Start, int End)> Spans(IReadOnlyList<string> tags)
    {
        var spans = new HashSet<(string, int, int)>();
        var previousPrefix = 'O';
        var previousType = "";
        var start = 0;
        for (var i = 0; i <= tags.Count; i++)
        {
            var tag = i < tags.Count ? tags[i] : Outside;
            var (prefix, type) = tag.Length > 2 && tag[1] == '-' && (tag[0] == 'B' || tag[0] == 'I') ? (tag[0], tag[2..]) : ('O', "");
            var startsNew = prefix == 'B' || (prefix == 'I' && (previousPrefix == 'O' || type != previousType));
            var endsPrevious = previousPrefix != 'O' && (prefix != 'I' || type != previousType);
            if (endsPrevious)
            {
                spans.Add((previousType, start, i - 1));
            }
            if (startsNew)
            {
                start = i;
            }
            previousPrefix = prefix;
            previousType = type;
        }
        return spans;
    }
}
