using System.Globalization;
using System.Text.Json;
using static TorchSharp.torch;

namespace MtlHost.Abstractions.Kinds;

/// <summary>
/// The contract of <see cref="TaskKind.Regression"/>: <c>text</c> and a finite <c>value</c> (a number, or a string that
/// parses as one), no labels, <c>[B]</c> outputs, <c>[B]</c> float32 targets.
/// </summary>
internal sealed class RegressionContract : TaskKindContract
{
    /// <inheritdoc />
    public override TaskKind Kind => TaskKind.Regression;

    /// <inheritdoc />
    public override IReadOnlyList<string> JsonFields { get; } = ["text", "value"];

    /// <inheritdoc />
    public override string? LabelProblem(TaskDescriptor descriptor, IReadOnlyList<string> labels) =>
        labels.Count != 0 ? $"task '{descriptor.Id}' is a regression task and must not list labels." : null;

    /// <inheritdoc />
    public override long[] OutputShape(long batch, long length, int outputSize) => [batch];

    /// <inheritdoc />
    public override Tensor DryTargets(int batch, int length, int outputSize) => zeros(batch);

    /// <inheritdoc />
    public override TaskExample? Read(JsonLineFields line, string source, out string? problem)
    {
        if (!line.TryText("text", out var text, out problem))
        {
            return null;
        }
        if (!line.Root.TryGetProperty("value", out var value))
        {
            problem = line.MissingField("value");
            return null;
        }
        double number;
        if (value.ValueKind == JsonValueKind.Number)
        {
            number = value.GetDouble();
        }
        else if (value.ValueKind != JsonValueKind.String ||
                 !double.TryParse(value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out number))
        {
            problem = $"field \"value\" is not a number ({value.GetRawText()})";
            return null;
        }
        if (!double.IsFinite(number))
        {
            problem = "field \"value\" is not finite";
            return null;
        }
        return TaskExample.ForValue(text, number, source);
    }
}
