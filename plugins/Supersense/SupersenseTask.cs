using MtlHost.Abstractions;

namespace MtlHost.Samples.Supersense;

/// <summary>
/// Which of WordNet's 45 supersenses (lexicographer files such as <c>noun.animal</c> or
/// <c>verb.motion</c>) does a dictionary definition belong to? WordNet 3.1 glosses (the definition
/// part), at most 250 per supersense.
/// </summary>
public sealed class SupersenseTask : SequenceClassificationTask
{
    /// <inheritdoc />
    public override string Id => "supersense";

    /// <inheritdoc />
    public override string DisplayName => "WordNet definition → supersense";

    /// <inheritdoc />
    public override IReadOnlyList<string> Labels => Supersenses.All;
}
