namespace MtlHost.Abstractions;

/// <summary>
/// A single-text task with one real-valued target: pooled [CLS] → dropout → linear to one number,
/// output <c>[B]</c>; mean squared error (or Huber, see <see cref="LossFunction"/>); and
/// <see cref="RegressionMetric"/> (Pearson primary, Spearman, MAE, MSE). A concrete task names its id:
/// <code>
/// public sealed class ReadingTimeTask : RegressionTask
/// {
///     public override string Id => "reading-time";
/// }
/// </code>
/// and ships <c>data/reading-time/{train,validation,test}.jsonl</c> with lines like
/// <c>{"text": "...", "value": 3.5}</c>. Targets are used as given; for a fast start, keep them in a
/// range of a few units (standardise them, or set <see cref="InitialOutput"/> near their mean).
/// </summary>
public abstract class RegressionTask : MtlTask
{
    /// <inheritdoc />
    public sealed override TaskKind Kind => TaskKind.Regression;

    /// <summary>Regression tasks have no labels.</summary>
    public sealed override IReadOnlyList<string> Labels => [];

    /// <summary>The training loss; <see cref="RegressionLossFunction.MeanSquaredError"/> by default.</summary>
    protected virtual RegressionLossFunction LossFunction => RegressionLossFunction.MeanSquaredError;

    /// <summary>Where the Huber loss turns from quadratic to linear, in target units; default 1.</summary>
    protected virtual double HuberDelta => 1.0;

    /// <summary>
    /// What the fresh head predicts before training (its output bias); default 0. Setting it near the
    /// training mean saves the steps a head would otherwise spend just moving its output there.
    /// </summary>
    protected virtual double InitialOutput => 0.0;

    /// <inheritdoc />
    public override TaskHead CreateHead(HeadOptions options) =>
        new RegressionHead(options.HiddenSize, options.Dropout, InitialOutput);

    /// <inheritdoc />
    public override ITaskLoss CreateLoss() => new RegressionLoss(LossFunction, HuberDelta);

    /// <inheritdoc />
    public override ITaskMetric CreateMetric() => new RegressionMetric();
}
