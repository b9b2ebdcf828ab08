namespace MtlHost.Abstractions;

/// <summary>
/// A two-text, single-label task (entailment, paraphrase, "do these define the same thing?"). The host
/// encodes each pair as <c>[CLS] a [SEP] b [SEP]</c> with segment ids 0 and 1, so the head sees both
/// texts at once: pooled [CLS] → dropout → linear, cross-entropy loss, accuracy / macro-F1 / MCC metric.
/// A concrete task names its id and labels:
/// <code>
/// public sealed class SameDomainTask : PairClassificationTask
/// {
///     public override string Id => "same-domain";
///     public override IReadOnlyList&lt;string&gt; Labels => ["different", "same"];
/// }
/// </code>
/// and ships <c>data/same-domain/{train,validation,test}.jsonl</c> with lines like
/// <c>{"text": "...", "text_pair": "...", "label": "same"}</c>.
/// </summary>
public abstract class PairClassificationTask : MtlTask
{
    /// <inheritdoc />
    public sealed override TaskKind Kind => TaskKind.PairClassification;

    /// <inheritdoc />
    public abstract override IReadOnlyList<string> Labels { get; }

    /// <inheritdoc />
    public override TaskHead CreateHead(HeadOptions options) =>
        new ClassificationHead(options.HiddenSize, Labels.Count, options.Dropout);

    /// <inheritdoc />
    public override ITaskLoss CreateLoss() => new SingleLabelCrossEntropy();

    /// <inheritdoc />
    public override ITaskMetric CreateMetric() => new ClassificationMetric(Labels.Count);
}
