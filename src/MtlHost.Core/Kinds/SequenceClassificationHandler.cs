using MtlHost.Abstractions;
using MtlHost.Core.Data;

namespace MtlHost.Core.Kinds;

/// <summary>The host's side of <see cref="TaskKind.SequenceClassification"/>: one text, one label.</summary>
public sealed class SequenceClassificationHandler : SingleLabelKindHandler
{
    /// <inheritdoc />
    public override TaskKind Kind => TaskKind.SequenceClassification;

    /// <inheritdoc />
    public override string ShortName => "classification";

    /// <inheritdoc />
    public override InputEncoding Input => InputEncoding.Text;

    /// <inheritdoc />
    public override string ExportInput => "[CLS] text [SEP], token_type_ids 0";

    /// <inheritdoc />
    public override EncodedExample Encode(TaskExample example, ExampleEncoder encoder)
    {
        var encoded = encoder.Tokenizer.Encode(encoder.Require(example.Text, example, "Text"), encoder.MaxLength);
        return new EncodedExample(encoded.InputIds, encoded.TokenTypeIds) { Label = encoder.IndexOf(example.Label, example) };
    }
}
