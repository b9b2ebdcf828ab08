namespace MtlHost.Abstractions;

/// <summary>
/// A single-text task whose examples carry any subset of the labels (none, one or several):
/// pooled [CLS] → dropout → linear to one logit per label, an independent sigmoid per label with
/// binary cross-entropy (rare labels' positives weighted up, see <see cref="WeightPositives"/>), and <see cref="MultiLabelMetric"/> (micro-F1 primary, macro-F1, at
/// <see cref="Threshold"/>). A concrete task names its id and labels:
/// <code>
/// public sealed class TopicsTask : MultiLabelClassificationTask
/// {
///     public override string Id => "topics";
///     public override IReadOnlyList&lt;string&gt; Labels => ["sports", "politics", "science"];
/// }
/// </code>
/// and ships <c>data/topics/{train,validation,test}.jsonl</c> with lines like
/// <c>{"text": "...", "labels": ["politics", "science"]}</c>.
/// </summary>
public abstract class MultiLabelClassificationTask : MtlTask
{
    /// <inheritdoc />
    public sealed override TaskKind Kind => TaskKind.MultiLabelClassification;

    /// <inheritdoc />
    public abstract override IReadOnlyList<string> Labels { get; }

    /// <summary>Probability at or above which the metric counts a label as predicted; default 0.5.</summary>
    protected virtual double Threshold => 0.5;

    /// <inheritdoc />
    public override TaskHead CreateHead(HeadOptions options) =>
        new ClassificationHead(options.HiddenSize, Labels.Count, options.Dropout);

    /// <summary>
    /// Whether the loss weights each label's positives by √(negatives / positives) of the training split
    /// (<see cref="MultiLabelBinaryCrossEntropy.WeightPositives"/>); default on, since with many rare labels an
    /// unweighted loss learns to predict none.
    /// </summary>
    protected virtual bool WeightPositives => true;

    /// <inheritdoc />
    public override ITaskLoss CreateLoss() => new MultiLabelBinaryCrossEntropy { WeightPositives = WeightPositives };

    /// <inheritdoc />
    public override ITaskMetric CreateMetric() => new MultiLabelMetric(Labels.Count, Threshold);
}
