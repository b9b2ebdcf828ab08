using System.Buffers.Binary;
using System.Text;

namespace MtlHost.Core.Export.Onnx;

/// <summary>
/// Writes one protocol buffers message field by field (the counterpart of the importer's <c>ProtoReader</c>): varints,
/// 32-bit floats and length-delimited bytes, strings and nested messages.
/// </summary>
/// <remarks>A nested message is written into its own buffer first, since its length precedes it on the wire.</remarks>
internal sealed class ProtoWriter
{
    private const int Varint = 0;
    private const int LengthDelimited = 2;
    private const int Fixed32 = 5;

    private readonly MemoryStream _buffer = new();

    /// <summary>Writes an integer field (int32, int64 and enums are varints; negative values take ten bytes, as protobuf says).</summary>
    public ProtoWriter Int(int field, long value)
    {
        Tag(field, Varint);
        WriteVarint(unchecked((ulong)value));
        return this;
    }

    /// <summary>Writes a float field.</summary>
    public ProtoWriter Float(int field, float value)
    {
        Tag(field, Fixed32);
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(bytes, value);
        _buffer.Write(bytes);
        return this;
    }

    /// <summary>Writes a string field, UTF-8.</summary>
    public ProtoWriter String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    /// <summary>Writes a bytes field.</summary>
    public ProtoWriter Bytes(int field, ReadOnlySpan<byte> value)
    {
        Tag(field, LengthDelimited);
        WriteVarint((ulong)value.Length);
        _buffer.Write(value);
        return this;
    }

    /// <summary>Writes a nested message field.</summary>
    public ProtoWriter Message(int field, ProtoWriter message)
    {
        Tag(field, LengthDelimited);
        WriteVarint((ulong)message._buffer.Length);
        message._buffer.Position = 0;
        message._buffer.CopyTo(_buffer);
        return this;
    }

    /// <summary>Writes a packed repeated integer field.</summary>
    public ProtoWriter PackedInts(int field, IEnumerable<long> values)
    {
        var packed = new ProtoWriter();
        foreach (var value in values)
        {
            packed.WriteVarint(unchecked((ulong)value));
        }
        return Bytes(field, packed.ToArray());
    }

    /// <summary>The message written so far.</summary>
    public byte[] ToArray() => _buffer.ToArray();

    /// <summary>Writes the message written so far to a stream.</summary>
    public void CopyTo(Stream stream)
    {
        _buffer.Position = 0;
        _buffer.CopyTo(stream);
    }

    private void Tag(int field, int wireType) => WriteVarint((ulong)((field << 3) | wireType));

    private void WriteVarint(ulong value)
    {
        while (value >= 0x80)
        {
            _buffer.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }
        _buffer.WriteByte((byte)value);
    }
}
