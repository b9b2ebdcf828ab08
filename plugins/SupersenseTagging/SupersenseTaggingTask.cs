using MtlHost.Abstractions;

namespace MtlHost.Samples.SupersenseTagging;

/// <summary>
/// Find the word a WordNet example sentence illustrates and tag it with its supersense: BIO tags over
/// the sentence's words and punctuation (<c>B-verb.motion</c>, <c>I-verb.motion</c>, <c>O</c>, …).
/// Scored by span F1: the tagged span must match in position and supersense.
/// </summary>
public sealed class SupersenseTaggingTask : TokenClassificationTask
{
    /// <inheritdoc />
    public override string Id => "supersense-tagging";

    /// <inheritdoc />
    public override string DisplayName => "WordNet example sentence → supersense tags";

    /// <inheritdoc />
    public override IReadOnlyList<string> Labels { get; } = BioLabels(Supersenses.All);
}
