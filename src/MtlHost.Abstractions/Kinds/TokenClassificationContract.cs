using static TorchSharp.torch;

namespace MtlHost.Abstractions.Kinds;

/// <summary>
/// The contract of <see cref="TaskKind.TokenClassification"/>: <c>words</c> and <c>word_labels</c> (null for a word
/// without a label), <c>[B, T, L]</c> logits, <c>[B, T]</c> int64 targets.
/// </summary>
internal sealed class TokenClassificationContract : TaskKindContract
{
    /// <inheritdoc />
    public override TaskKind Kind => TaskKind.TokenClassification;

    /// <inheritdoc />
    public override IReadOnlyList<string> JsonFields { get; } = ["words", "word_labels"];

    /// <inheritdoc />
    public override string? LabelProblem(TaskDescriptor descriptor, IReadOnlyList<string> labels) => AtLeast(descriptor, labels, 1);

    /// <inheritdoc />
    public override long[] OutputShape(long batch, long length, int outputSize) => [batch, length, outputSize];

    /// <inheritdoc />
    public override Tensor DryTargets(int batch, int length, int outputSize) => zeros(batch, length, ScalarType.Int64);

    /// <inheritdoc />
    public override TaskExample? Read(JsonLineFields line, string source, out string? problem)
    {
        if (!line.TryStrings("words", allowEmpty: false, out var words, out problem) || !line.TryWordLabels(out var wordLabels, out problem))
        {
            return null;
        }
        if (words.Count != wordLabels.Count)
        {
            problem = $"{words.Count} words but {wordLabels.Count} word_labels; give exactly one label per word";
            return null;
        }
        var unknown = wordLabels.FirstOrDefault(l => l is not null && !line.IsLabel(l));
        if (unknown is not null)
        {
            problem = line.UnknownLabel("word_labels", unknown);
            return null;
        }
        if (wordLabels.All(l => l is null))
        {
            problem = "every entry of \"word_labels\" is null; label at least one word";
            return null;
        }
        return TaskExample.ForWords(words, wordLabels, source);
    }
}
