namespace MtlHost.Inference.Onnx;

/// <summary>One output of the model for a batch of rows, as ONNX Runtime returned it.</summary>
/// <param name="Values">The values, row-major.</param>
/// <param name="Shape">Its shape: [rows, labels], [rows, tokens, labels] or [rows].</param>
public sealed record OnnxOutput(float[] Values, IReadOnlyList<long> Shape)
{
    /// <summary>The values of one row.</summary>
    /// <param name="row">The row.</param>
    /// <returns>A slice of <see cref="Values"/>.</returns>
    public ReadOnlySpan<float> Row(int row)
    {
        var size = Shape.Skip(1).Aggregate(1L, (a, b) => a * b);
        return Values.AsSpan((int)(row * size), (int)size);
    }
}
