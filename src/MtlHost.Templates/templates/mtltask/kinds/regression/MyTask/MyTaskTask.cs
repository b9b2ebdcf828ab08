using MtlHost.Abstractions;

namespace MyTask;

/// <summary>
/// How many stars, from 1 to 5, does a short product review give? A regression task: one text, one
/// number. The base class brings the head (pooled [CLS], dropout, linear to one number), the loss (mean
/// squared error; override LossFunction for Huber), the metric (Pearson, Spearman, MAE, MSE) and the data
/// reader for data/mytask/*.jsonl, whose lines look like {"text": "...", "value": 4}. Override any of
/// them to change it.
/// </summary>
public sealed class MyTaskTask : RegressionTask
{
    /// <summary>Stable id: the host keys heads, checkpoints and metrics by it, and reads data/mytask/.</summary>
    public override string Id => "mytask";

    /// <summary>Shown in the host's tables.</summary>
    public override string DisplayName => "MyTask (example: review star rating)";

    /// <summary>
    /// The middle of the 1–5 scale: a fresh head starting there does not spend its first steps just moving
    /// its output from 0 to where the targets are. Set it near the mean of your own targets.
    /// </summary>
    protected override double InitialOutput => 3.0;
}
