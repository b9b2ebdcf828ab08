using MtlHost.Abstractions;

namespace MyTask;

/// <summary>
/// Which aspects of a purchase does a short review talk about? A multi-label task: one text, any set
/// of labels (none, one or several). The base class brings the head (pooled [CLS], dropout, linear to
/// one logit per label), the loss (a sigmoid and binary cross-entropy per label, rare labels' positives
/// weighted up), the metric (micro-F1, macro-F1, precision, recall, exact match at probability 0.5) and
/// the data reader for data/mytask/*.jsonl, whose lines look like
/// {"text": "...", "labels": ["price", "delivery"]}. Override any of them to change it.
/// </summary>
public sealed class MyTaskTask : MultiLabelClassificationTask
{
    /// <summary>Stable id: the host keys heads, checkpoints and metrics by it, and reads data/mytask/.</summary>
    public override string Id => "mytask";

    /// <summary>Shown in the host's tables.</summary>
    public override string DisplayName => "MyTask (example: review aspects)";

    /// <summary>Label names in index order; every entry of "labels" in the data must be one of them.</summary>
    public override IReadOnlyList<string> Labels => ["price", "quality", "delivery", "service"];
}
