using MtlHost.Abstractions;

namespace MyTask;

/// <summary>
/// Which words of a sentence name a person, an organisation or a place? A token classification task:
/// one label per word, here BIO tags (B- starts a name, I- continues it, O is outside any name). The
/// base class brings the head (dropout and a linear layer on every token), the loss (cross-entropy on
/// the first sub-token of each word), the metric (span F1 over whole names, span precision and recall,
/// token accuracy) and the data reader for data/mytask/*.jsonl, whose lines look like
/// {"words": ["Ada", "Lovelace", "lived", "in", "London"], "word_labels": ["B-PER", "I-PER", "O", "O", "B-LOC"]}.
/// Override any of them to change it.
/// </summary>
public sealed class MyTaskTask : TokenClassificationTask
{
    /// <summary>Stable id: the host keys heads, checkpoints and metrics by it, and reads data/mytask/.</summary>
    public override string Id => "mytask";

    /// <summary>Shown in the host's tables.</summary>
    public override string DisplayName => "MyTask (example: names of people, organisations and places)";

    /// <summary>
    /// Label names in index order (O, B-PER, I-PER, B-ORG, I-ORG, B-LOC, I-LOC); every entry of "word_labels"
    /// in the data must be one of them, or null for a word without a label.
    /// </summary>
    public override IReadOnlyList<string> Labels { get; } = BioLabels(["PER", "ORG", "LOC"]);
}
