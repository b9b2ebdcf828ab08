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

    /// <summary>
    /// Whether the loss weights each label's positives by √(negatives / positives) of the training split
    /// (<see cref="MultiLabelBinaryCrossEntropy.WeightPositives"/>); default on, since with many rare labels an
    /// unweighted loss learns to predict none.
    /// </summary>
    protected virtual bool WeightPositives => true;

    /// <summary>
    /// Whether the head's bias starts at each label's best constant logit for the loss, log(w·n / (N − n)) for a
    /// label on n of N training examples with positive weight w, instead of 0 (which predicts every label with
    /// probability ½ and takes Adam thousands of steps to leave); default on.
    /// </summary>
    protected virtual bool StartFromLabelFrequencies => true;

    /// <inheritdoc />
    public override TaskHead CreateHead(HeadOptions options) =>
        new ClassificationHead(options.HiddenSize, Labels.Count, options.Dropout)
        {
            InitialBias = StartFromLabelFrequencies ? PriorLogits : null,
        };

    /// <inheritdoc />
    public override ITaskLoss CreateLoss() => new MultiLabelBinaryCrossEntropy { WeightPositives = WeightPositives };

    // The constant logit that minimises the (weighted) binary cross-entropy of each label: σ(b) = w·p / (w·p + 1 − p).
    private IReadOnlyList<double> PriorLogits(TrainingSplitSummary training)
    {
        var weights = WeightPositives
            ? MultiLabelBinaryCrossEntropy.PositiveWeightsFor(training)
            : Enumerable.Repeat(1.0, training.LabelCounts.Count).ToArray();
        var examples = Math.Max(1, training.Examples);
        return training.LabelCounts.Select((count, i) =>
        {
            // A label never seen (or on every example) gets the odds of half an example, not ±∞.
            var positives = Math.Clamp(count, 0.5, examples - 0.5);
            return Math.Log(weights[i] * positives / (examples - positives));
        }).ToArray();
    }

    /// <inheritdoc />
    public override ITaskMetric CreateMetric() => new MultiLabelMetric(Labels.Count, Threshold);
}
