using MtlHost.Abstractions;

namespace MyTask;

/// <summary>
/// Is a short product review positive or negative? A sequence classification task: one text, one
/// label. The base class brings the head (pooled [CLS], dropout, linear), the loss (cross-entropy),
/// the metric (accuracy, macro-F1, MCC) and the data reader for data/mytask/*.jsonl, whose lines
/// look like {"text": "...", "label": "positive"}. Override any of them to change it.
/// </summary>
public sealed class MyTaskTask : SequenceClassificationTask
{
    /// <summary>Stable id: the host keys heads, checkpoints and metrics by it, and reads data/mytask/.</summary>
    public override string Id => "mytask";

    /// <summary>Shown in the host's tables.</summary>
    public override string DisplayName => "MyTask (example: review sentiment)";

    /// <summary>Label names in index order; every "label" in the data must be one of them.</summary>
    public override IReadOnlyList<string> Labels => ["negative", "positive"];
}
