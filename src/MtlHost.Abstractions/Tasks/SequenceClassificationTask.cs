namespace MtlHost.Abstractions;

/// <summary>
/// A single-text, single-label task: pooled [CLS] → dropout → linear head, cross-entropy loss,
/// accuracy / macro-F1 / MCC metric. A concrete task names its id and labels:
/// <code>
/// public sealed class SpamTask : SequenceClassificationTask
/// {
///     public override string Id => "spam";
///     public override IReadOnlyList&lt;string&gt; Labels => ["ham", "spam"];
/// }
/// </code>
/// and ships <c>data/spam/{train,validation,test}.jsonl</c> with lines like
/// <c>{"text": "...", "label": "spam"}</c>.
/// </summary>
public abstract class SequenceClassificationTask : MtlTask
{
    /// <inheritdoc />
    public sealed override TaskKind Kind => TaskKind.SequenceClassification;

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
