using MtlHost.Abstractions;

namespace MtlHost.Samples.WordClass;

/// <summary>
/// Which part of speech does a dictionary definition define? WordNet 3.1 glosses (the definition
/// part, without examples) labelled noun, verb, adjective or adverb.
/// </summary>
public sealed class WordClassTask : SequenceClassificationTask
{
    /// <inheritdoc />
    public override string Id => "wordclass";

    /// <inheritdoc />
    public override string DisplayName => "WordNet definition → part of speech";

    /// <inheritdoc />
    public override IReadOnlyList<string> Labels => ["noun", "verb", "adjective", "adverb"];
}
