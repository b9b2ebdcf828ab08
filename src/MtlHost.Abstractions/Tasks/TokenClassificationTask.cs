namespace MtlHost.Abstractions;

/// <summary>
/// A task that labels every word of a pre-split sentence (named entities, supersense tags, parts of
/// speech): dropout → linear on every token's hidden state, output <c>[B, T, L]</c>; cross-entropy over
/// the first sub-token of each word (the host marks every other position with
/// <see cref="TaskTargets.IgnoreIndex"/>); <see cref="TokenClassificationMetric"/>, whose primary score
/// is the span-level F1 when the labels are BIO tags and token accuracy otherwise.
/// A concrete task names its id and labels, usually with <see cref="BioLabels"/>:
/// <code>
/// public sealed class PeopleTask : TokenClassificationTask
/// {
///     public override string Id => "people";
///     public override IReadOnlyList&lt;string&gt; Labels { get; } = BioLabels(["PER"]);
/// }
/// </code>
/// and ships <c>data/people/{train,validation,test}.jsonl</c> with lines like
/// <c>{"words": ["Ada", "Lovelace", "wrote", "it"], "word_labels": ["B-PER", "I-PER", "O", "O"]}</c>.
/// A <c>null</c> in <c>word_labels</c> marks a word without a label (one the annotation leaves open), which the loss
/// and the metric skip.
/// </summary>
public abstract class TokenClassificationTask : MtlTask
{
    /// <inheritdoc />
    public sealed override TaskKind Kind => TaskKind.TokenClassification;

    /// <inheritdoc />
    public abstract override IReadOnlyList<string> Labels { get; }

    /// <summary>
    /// The BIO (IOB2) label set of span types: <c>O</c> first (so it is label 0), then <c>B-type</c> and
    /// <c>I-type</c> for each type in the order given.
    /// </summary>
    /// <param name="types">Span types, such as <c>PER</c> or <c>noun.animal</c>.</param>
    /// <returns>The labels.</returns>
    protected static IReadOnlyList<string> BioLabels(IEnumerable<string> types)
    {
        ArgumentNullException.ThrowIfNull(types);
        var labels = new List<string> { TokenClassificationMetric.Outside };
        foreach (var type in types)
        {
            labels.Add("B-" + type);
            labels.Add("I-" + type);
        }
        return labels;
    }

    /// <inheritdoc />
    public override TaskHead CreateHead(HeadOptions options) =>
        new TokenClassificationHead(options.HiddenSize, Labels.Count, options.Dropout);

    /// <inheritdoc />
    public override ITaskLoss CreateLoss() => new SingleLabelCrossEntropy();

    /// <inheritdoc />
    public override ITaskMetric CreateMetric() => new TokenClassificationMetric(Labels);
}
