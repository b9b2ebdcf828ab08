namespace MtlHost.Core.Checkpoints;

/// <summary>One named tensor as raw little-endian bytes, outside TorchSharp: what is read from and written to weight files.</summary>
/// <param name="Name">State-dict name (for example <c>encoder.layer.0.attention.self.query.weight</c>).</param>
/// <param name="DType">Element type in safetensors' notation: <c>F32</c>, <c>F64</c>, <c>F16</c>, <c>BF16</c>, <c>I64</c>, <c>I32</c>, <c>I16</c>, <c>I8</c>, <c>U8</c>, <c>BOOL</c>.</param>
/// <param name="Shape">Dimensions.</param>
/// <param name="Data">The elements, row-major, little-endian.</param>
public sealed record StoredTensor(string Name, string DType, IReadOnlyList<long> Shape, byte[] Data)
{
    /// <summary>Number of elements.</summary>
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>Bytes per element of a safetensors dtype.</summary>
    /// <param name="dtype">The dtype.</param>
    /// <returns>Its size.</returns>
    /// <exception cref="ArgumentException">The dtype is not one this host reads or writes.</exception>
    public static int ElementSize(string dtype) => dtype switch
    {
        "F64" or "I64" => 8,
        "F32" or "I32" => 4,
        "F16" or "BF16" or "I16" => 2,
        "I8" or "U8" or "BOOL" => 1,
        _ => throw new ArgumentException($"Tensor element type '{dtype}' is not supported; use F64, F32, F16, BF16, I64, I32, I16, I8, U8 or BOOL."),
    };

    /// <summary>The elements as doubles (float and integer types).</summary>
    /// <returns>The values, row-major.</returns>
    public double[] ToDoubles()
    {
        var size = ElementSize(DType);
        var values = new double[Data.Length / size];
        for (var i = 0; i < values.Length; i++)
        {
            var span = Data.AsSpan(i * size, size);
            values[i] = DType switch
            {
                "F64" => BitConverter.ToDouble(span),
                "F32" => BitConverter.ToSingle(span),
                "F16" => (double)BitConverter.ToHalf(span),
                "BF16" => BitConverter.Int32BitsToSingle(BitConverter.ToUInt16(span) << 16),
                "I64" => BitConverter.ToInt64(span),
                "I32" => BitConverter.ToInt32(span),
                "I16" => BitConverter.ToInt16(span),
                "I8" => (sbyte)span[0],
                _ => span[0],
            };
        }
        return values;
    }
}
