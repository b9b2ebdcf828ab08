using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace MtlHost.Core.Encoders.Onnx;

/// <summary>
/// An ONNX <c>TensorProto</c>: a named, typed, shaped constant (an initializer or a Constant node's value).
/// </summary>
internal sealed class OnnxTensor
{
    private readonly List<float> floatData = [];
    private readonly List<long> int32Data = [];
    private readonly List<long> int64Data = [];
    private readonly List<double> doubleData = [];
    private ReadOnlyMemory<byte> rawData;
    private bool hasRawData;
    private bool isExternal;

    private OnnxTensor()
    {
    }

    /// <summary>The tensor's name; empty for an unnamed Constant value.</summary>
    public string Name { get; private set; } = "";

    /// <summary>The shape; empty for a scalar.</summary>
    public long[] Dims { get; private set; } = [];

    /// <summary>The element type.</summary>
    public OnnxDataType DataType { get; private set; }

    /// <summary>Number of elements (1 for a scalar).</summary>
    public long ElementCount => Dims.Aggregate(1L, (n, d) => n * d);

    /// <summary>The shape as text, for messages.</summary>
    public string ShapeText => $"[{string.Join(", ", Dims)}]";

    /// <summary>
    /// Reads a <c>TensorProto</c>.
    /// </summary>
    /// <param name="reader">A reader positioned on the message.</param>
    /// <returns>The tensor; its raw bytes still point into the model buffer.</returns>
    public static OnnxTensor Parse(ProtoReader reader)
    {
        var tensor = new OnnxTensor();
        var dims = new List<long>();
        while (reader.TryReadTag(out var field, out var wire))
        {
            switch (field)
            {
                case 1: reader.ReadRepeatedInt64(wire, dims); break;
                case 2: reader.Expect(wire, ProtoWireType.Varint); tensor.DataType = (OnnxDataType)reader.ReadInt32(); break;
                case 4: reader.ReadRepeatedFloat(wire, tensor.floatData); break;
                case 5: reader.ReadRepeatedInt64(wire, tensor.int32Data); break;
                case 7: reader.ReadRepeatedInt64(wire, tensor.int64Data); break;
                case 8: reader.Expect(wire, ProtoWireType.LengthDelimited); tensor.Name = reader.ReadString(); break;
                case 9:
                    reader.Expect(wire, ProtoWireType.LengthDelimited);
                    tensor.rawData = reader.ReadBytes();
                    tensor.hasRawData = true;
                    break;
                case 10: ReadRepeatedDouble(ref reader, wire, tensor.doubleData); break;
                case 13: tensor.isExternal = true; reader.Skip(wire); break;
                case 14: reader.Expect(wire, ProtoWireType.Varint); tensor.isExternal |= reader.ReadInt32() == 1; break;
                default: reader.Skip(wire); break;
            }
        }

        tensor.Dims = [.. dims];
        return tensor;
    }

    /// <summary>
    /// The values as 32-bit floats, converting from FLOAT16 or DOUBLE.
    /// </summary>
    /// <returns>The values in row-major order.</returns>
    /// <exception cref="InvalidDataException">The tensor is not floating point, lives in an external file, or its data does not match its shape.</exception>
    public float[] ToFloats()
    {
        CheckInline();
        return DataType switch
        {
            OnnxDataType.Float when hasRawData => Checked(MemoryMarshal.Cast<byte, float>(RawBytes(4)).ToArray()),
            OnnxDataType.Float => Checked(floatData.ToArray()),
            OnnxDataType.Float16 when hasRawData => Checked(MemoryMarshal.Cast<byte, Half>(RawBytes(2)).ToArray().Select(h => (float)h).ToArray()),

            // FLOAT16 values without raw_data are stored as their bit patterns in int32_data.
            OnnxDataType.Float16 => Checked(int32Data.Select(bits => (float)BitConverter.UInt16BitsToHalf((ushort)bits)).ToArray()),
            OnnxDataType.Double when hasRawData => Checked(MemoryMarshal.Cast<byte, double>(RawBytes(8)).ToArray().Select(d => (float)d).ToArray()),
            OnnxDataType.Double => Checked(doubleData.Select(d => (float)d).ToArray()),
            _ => throw new InvalidDataException(
                $"ONNX tensor '{Name}' has data type {DataType.ToString().ToUpperInvariant()}; " +
                "only FLOAT, FLOAT16 and DOUBLE tensors can be loaded as weights."),
        };
    }

    /// <summary>
    /// The values as 64-bit integers, converting from INT32.
    /// </summary>
    /// <returns>The values in row-major order.</returns>
    /// <exception cref="InvalidDataException">The tensor is not INT64 or INT32, lives in an external file, or its data does not match its shape.</exception>
    public long[] ToInt64s()
    {
        CheckInline();
        return DataType switch
        {
            OnnxDataType.Int64 when hasRawData => Checked(MemoryMarshal.Cast<byte, long>(RawBytes(8)).ToArray()),
            OnnxDataType.Int64 => Checked(int64Data.ToArray()),
            OnnxDataType.Int32 when hasRawData => Checked(MemoryMarshal.Cast<byte, int>(RawBytes(4)).ToArray().Select(i => (long)i).ToArray()),
            OnnxDataType.Int32 => Checked(int32Data.Select(i => (long)(int)i).ToArray()),
            _ => throw new InvalidDataException(
                $"ONNX tensor '{Name}' has data type {DataType.ToString().ToUpperInvariant()}; only INT64 and INT32 tensors can be read as integers."),
        };
    }

    private static void ReadRepeatedDouble(ref ProtoReader reader, ProtoWireType wire, List<double> values)
    {
        if (wire == ProtoWireType.LengthDelimited)
        {
            var packed = reader.ReadMessage();
            while (!packed.AtEnd)
            {
                values.Add(BitConverter.UInt64BitsToDouble(packed.ReadFixed64()));
            }
        }
        else
        {
            reader.Expect(wire, ProtoWireType.Fixed64);
            values.Add(BitConverter.UInt64BitsToDouble(reader.ReadFixed64()));
        }
    }

    private void CheckInline()
    {
        if (isExternal)
        {
            throw new InvalidDataException(
                $"ONNX tensor '{Name}' is stored in an external data file, which this importer does not read; " +
                "re-export the model with its weights inside the .onnx file.");
        }

        // raw_data is little-endian by specification; reinterpreting it on a big-endian host would scramble every weight.
        if (hasRawData && !BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("Reading ONNX raw_data needs a little-endian machine.");
        }
    }

    private ReadOnlySpan<byte> RawBytes(int elementSize)
    {
        if (rawData.Length != ElementCount * elementSize)
        {
            throw new InvalidDataException(
                $"ONNX tensor '{Name}' of shape {ShapeText} and type {DataType.ToString().ToUpperInvariant()} should hold " +
                $"{ElementCount * elementSize} bytes of raw data but holds {rawData.Length}.");
        }

        return rawData.Span;
    }

    private T[] Checked<T>(T[] values)
    {
        if (values.Length != ElementCount)
        {
            throw new InvalidDataException(
                $"ONNX tensor '{Name}' of shape {ShapeText} should hold {ElementCount} values but holds {values.Length}.");
        }

        return values;
    }
}
