using MtlHost.Abstractions;

namespace MtlHost.Samples.SenseDomains;

/// <summary>
/// Given a word that has several senses in WordNet 3.1, which supersenses do its senses fall in?
/// "monkey" → noun.animal, noun.person, verb.contact. A multi-label task: a word's senses span a set
/// of supersenses, most often one to three.
/// </summary>
public sealed class SenseDomainsTask : MultiLabelClassificationTask
{
    /// <inheritdoc />
    public override string Id => "sensedomains";

    /// <inheritdoc />
    public override string DisplayName => "WordNet polysemous word → supersenses of its senses";

    /// <inheritdoc />
    public override IReadOnlyList<string> Labels => Supersenses.All;
}
