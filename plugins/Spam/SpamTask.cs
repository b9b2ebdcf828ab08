using MtlHost.Abstractions;

namespace MtlHost.Samples.Spam;

/// <summary>
/// Is an e-mail spam? SpamAssassin public corpus (subject and start of the body; see
/// samples/data/README.md). Line breaks and symbols such as <c>$</c> are kept: they carry signal.
/// </summary>
public sealed class SpamTask : SequenceClassificationTask
{
    /// <inheritdoc />
    public override string Id => "spam";

    /// <inheritdoc />
    public override string DisplayName => "SpamAssassin spam vs ham";

    /// <inheritdoc />
    public override IReadOnlyList<string> Labels => ["ham", "spam"];
}
