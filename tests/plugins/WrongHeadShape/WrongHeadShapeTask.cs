using MtlHost.Abstractions;

namespace MtlHost.TestPlugins;

/// <summary>A two-label task whose head outputs three logits: validation must catch the shape.</summary>
public sealed class WrongHeadShapeTask : SequenceClassificationTask
{
    /// <inheritdoc />
    public override string Id => "wrong-head-shape";

    /// <inheritdoc />
    public override IReadOnlyList<string> Labels => ["a", "b"];

    /// <inheritdoc />
    public override TaskHead CreateHead(HeadOptions options) => new ClassificationHead(options.HiddenSize, Labels.Count + 1, options.Dropout);
}
