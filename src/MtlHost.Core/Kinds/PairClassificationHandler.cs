using MtlHost.Abstractions;
using MtlHost.Core.Data;

namespace MtlHost.Core.Kinds;

/// <summary>The host's side of <see cref="TaskKind.PairClassification"/>: two texts encoded together, one label.</summary>
public sealed class PairClassificationHandler : SingleLabelKindHandler
{
    /// <inheritdoc />
    public override TaskKind Kind => TaskKind.PairClassification;

    /// <inheritdoc />
    public override string ShortName => "pair";

    /// <inheritdoc />
    public override InputEncoding Input => InputEncoding.Pair;

    /// <inheritdoc />
    public override string ExportInput => "[CLS] text [SEP] pair [SEP], token_type_ids 0 up to the first [SEP] and 1 after it";

    /// <inheritdoc />
    public override EncodedExample Encode(TaskExample example, ExampleEncoder encoder)
    {
        var encoded = encoder.Tokenizer.EncodePair(encoder.Require(example.Text, example, "Text"),
            encoder.Require(example.TextPair, example, "TextPair"), encoder.MaxLength);
        return new EncodedExample(encoded.InputIds, encoded.TokenTypeIds) { Label = encoder.IndexOf(example.Label, example) };
    }
}
