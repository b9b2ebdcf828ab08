using static TorchSharp.torch;

namespace MtlHost.Abstractions.Kinds;

/// <summary>The shapes sequence and pair classification share: one label of at least two, <c>[B, L]</c> logits, <c>[B]</c> int64 targets.</summary>
internal abstract class SingleLabelContract : TaskKindContract
{
    /// <inheritdoc />
    public override string? LabelProblem(TaskDescriptor descriptor, IReadOnlyList<string> labels) => AtLeast(descriptor, labels, 2);

    /// <inheritdoc />
    public override long[] OutputShape(long batch, long length, int outputSize) => [batch, outputSize];

    /// <inheritdoc />
    public override Tensor DryTargets(int batch, int length, int outputSize) => zeros(batch, ScalarType.Int64);
}
