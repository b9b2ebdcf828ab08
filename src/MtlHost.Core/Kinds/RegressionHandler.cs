using MtlHost.Abstractions;
using MtlHost.Core.Data;
using MtlHost.Core.Inference;
using static TorchSharp.torch;

namespace MtlHost.Core.Kinds;

/// <summary>The host's side of <see cref="TaskKind.Regression"/>: one text, one real number, no labels.</summary>
public sealed class RegressionHandler : TaskKindHandler
{
    /// <inheritdoc />
    public override TaskKind Kind => TaskKind.Regression;

    /// <inheritdoc />
    public override string ShortName => "regression";

    /// <inheritdoc />
    public override InputEncoding Input => InputEncoding.Text;

    /// <inheritdoc />
    public override string ExportInput => "[CLS] text [SEP], token_type_ids 0";

    /// <inheritdoc />
    public override EncodedExample Encode(TaskExample example, ExampleEncoder encoder)
    {
        var encoded = encoder.Tokenizer.Encode(encoder.Require(example.Text, example, "Text"), encoder.MaxLength);
        var value = example.Value ?? throw encoder.Missing(example, "Value");
        return new EncodedExample(encoded.InputIds, encoded.TokenTypeIds) { Value = (float)value };
    }

    /// <inheritdoc />
    public override Tensor CollateTargets(IReadOnlyList<EncodedExample> examples, int length, Device device) =>
        tensor(examples.Select(e => e.Value).ToArray(), device: device);

    /// <inheritdoc />
    public override Tensor BaselineOutputs(IReadOnlyList<EncodedExample> train, int outputSize, Tensor targets)
    {
        var mean = train.Average(e => e.Value);
        return full((int)targets.shape[0], mean, ScalarType.Float32);
    }

    /// <inheritdoc />
    public override Tensor Probabilities(Tensor outputs) => outputs;

    /// <inheritdoc />
    public override TaskPrediction Decode(TaskPrediction prediction, float[] probabilities, int row, int length, IReadOnlyList<string> labels,
        IReadOnlyList<WordAlignment>? alignments) => prediction with { Value = probabilities[row] };

    /// <inheritdoc />
    public override string? DescribeHead(IReadOnlyList<string> tensorNames) =>
        SdkHead(tensorNames, ["regressor.bias", "regressor.weight"],
            "value = (h[:, 0] @ regressor.weight.T + regressor.bias)[:, 0]  ([CLS] state, not the pooler).");

    /// <inheritdoc />
    protected override long[] CountLabels(IReadOnlyList<EncodedExample> train, int labelCount) => [];
}
