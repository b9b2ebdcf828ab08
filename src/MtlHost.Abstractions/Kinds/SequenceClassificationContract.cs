namespace MtlHost.Abstractions.Kinds;

/// <summary>The contract of <see cref="TaskKind.SequenceClassification"/>: <c>text</c> and <c>label</c>.</summary>
internal sealed class SequenceClassificationContract : SingleLabelContract
{
    /// <inheritdoc />
    public override TaskKind Kind => TaskKind.SequenceClassification;

    /// <inheritdoc />
    public override IReadOnlyList<string> JsonFields { get; } = ["text", "label"];

    /// <inheritdoc />
    public override TaskExample? Read(JsonLineFields line, string source, out string? problem)
    {
        if (!line.TryText("text", out var text, out problem) || !line.TryLabel("label", out var label, out problem))
        {
            return null;
        }
        return TaskExample.ForText(text, label, source);
    }
}
