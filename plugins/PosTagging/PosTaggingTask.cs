using MtlHost.Abstractions;

namespace MtlHost.Samples.PosTagging;

/// <summary>
/// Tag every word of a WordNet example sentence with its word class: <c>noun</c>, <c>verb</c>, <c>adjective</c>,
/// <c>adverb</c>, or <c>other</c> (closed-class words, punctuation, numbers). The tags come from the WordNet lexicon;
/// a word it leaves ambiguous (a noun and a verb, say) is unlabelled and skipped by the loss and the metric.
/// Scored by token accuracy over the labelled words.
/// </summary>
public sealed class PosTaggingTask : TokenClassificationTask
{
    /// <inheritdoc />
    public override string Id => "pos-tagging";

    /// <inheritdoc />
    public override string DisplayName => "WordNet example sentence → word class of every word";

    /// <inheritdoc />
    public override IReadOnlyList<string> Labels => ["noun", "verb", "adjective", "adverb", "other"];
}
