namespace MtlHost.Abstractions.Kinds;

/// <summary>The contract of <see cref="TaskKind.PairClassification"/>: <c>text</c>, <c>text_pair</c> and <c>label</c>.</summary>
internal sealed class PairClassificationContract : SingleLabelContract
{
    /// <inheritdoc />
    public override TaskKind Kind => TaskKind.PairClassification;

    /// <inheritdoc />
    public override IReadOnlyList<string> JsonFields { get; } = ["text", "text_pair", "label"];

    /// <inheritdoc />
    public override TaskExample? Read(JsonLineFields line, string source, out string? problem)
    {
        if (!line.TryText("text", out var first, out problem) || !line.TryText("text_pair", out var second, out problem) ||
            !line.TryLabel("label", out var label, out problem))
        {
            return null;
        }
        return TaskExample.ForPair(first, second, label, source);
    }
}
