namespace MtlHost.Abstractions;

/// <summary>
/// The shape of a task: what an example carries, what the head outputs and what the host passes
/// to the loss and metric as targets.
/// </summary>
public enum TaskKind
{
    /// <summary>
    /// One text, one label out of <see cref="TaskDescriptor.Labels"/>.
    /// Head output <c>[B, L]</c> logits; targets <c>[B]</c> int64 label indices.
    /// </summary>
    SequenceClassification,

    /// <summary>
    /// Two texts encoded together as <c>[CLS] a [SEP] b [SEP]</c> with segment ids, one label.
    /// Head output <c>[B, L]</c> logits; targets <c>[B]</c> int64 label indices.
    /// </summary>
    PairClassification,

    /// <summary>
    /// One text, any subset of the labels.
    /// Head output <c>[B, L]</c> logits; targets <c>[B, L]</c> float32 multi-hot.
    /// </summary>
    MultiLabelClassification,

    /// <summary>
    /// Words with one label per word. The host labels the first sub-token of each word and marks
    /// every other position with <see cref="TaskTargets.IgnoreIndex"/>.
    /// Head output <c>[B, T, L]</c> logits; targets <c>[B, T]</c> int64.
    /// </summary>
    TokenClassification,

    /// <summary>
    /// One text, one real number. Head output <c>[B]</c>; targets <c>[B]</c> float32.
    /// </summary>
    Regression,
}
