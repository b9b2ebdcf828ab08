using MtlHost.Abstractions;

namespace MyTask;

/// <summary>
/// Do two customer questions ask the same thing? A pair classification task: two texts, one label. The
/// host encodes each pair as [CLS] text [SEP] text_pair [SEP], so the head sees both at once. The base
/// class brings the head (pooled [CLS], dropout, linear), the loss (cross-entropy), the metric
/// (accuracy, macro-F1, MCC) and the data reader for data/mytask/*.jsonl, whose lines look like
/// {"text": "...", "text_pair": "...", "label": "same"}. Override any of them to change it.
/// </summary>
public sealed class MyTaskTask : PairClassificationTask
{
    /// <summary>Stable id: the host keys heads, checkpoints and metrics by it, and reads data/mytask/.</summary>
    public override string Id => "mytask";

    /// <summary>Shown in the host's tables.</summary>
    public override string DisplayName => "MyTask (example: duplicate customer questions)";

    /// <summary>Label names in index order; every "label" in the data must be one of them.</summary>
    public override IReadOnlyList<string> Labels => ["different", "same"];
}
