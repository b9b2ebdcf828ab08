using static TorchSharp.torch;

namespace MtlHost.Abstractions.Kinds;

/// <summary>
/// The contract of <see cref="TaskKind.MultiLabelClassification"/>: <c>text</c> and <c>labels</c> (possibly none),
/// <c>[B, L]</c> logits, <c>[B, L]</c> float32 multi-hot targets.
/// </summary>
internal sealed class MultiLabelClassificationContract : TaskKindContract
{
    /// <inheritdoc />
    public override TaskKind Kind => TaskKind.MultiLabelClassification;

    /// <inheritdoc />
    public override IReadOnlyList<string> JsonFields { get; } = ["text", "labels"];

    /// <inheritdoc />
    public override string? LabelProblem(TaskDescriptor descriptor, IReadOnlyList<string> labels) => AtLeast(descriptor, labels, 1);

    /// <inheritdoc />
    public override long[] OutputShape(long batch, long length, int outputSize) => [batch, outputSize];

    /// <inheritdoc />
    public override Tensor DryTargets(int batch, int length, int outputSize) => zeros(batch, outputSize);

    /// <inheritdoc />
    public override TaskExample? Read(JsonLineFields line, string source, out string? problem)
    {
        if (!line.TryText("text", out var text, out problem) || !line.TryStrings("labels", allowEmpty: true, out var labels, out problem))
        {
            return null;
        }
        var unknown = labels.FirstOrDefault(l => !line.IsLabel(l));
        if (unknown is not null)
        {
            problem = line.UnknownLabel("labels", unknown);
            return null;
        }
        return TaskExample.ForLabelSet(text, labels, source);
    }
}
