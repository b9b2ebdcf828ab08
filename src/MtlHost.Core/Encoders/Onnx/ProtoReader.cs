using System.Buffers.Binary;
using System.Text;

namespace MtlHost.Core.Encoders.Onnx;

/// <summary>
/// Reads one protocol buffers message from memory, field by field.
/// </summary>
/// <remarks>
/// Length-delimited fields come back as slices of the original buffer, so reading a 90 MB model
/// copies no tensor bytes. Every read is bounds-checked; a truncated or corrupt message raises
/// <see cref="InvalidDataException"/> with the byte offset.
/// </remarks>
internal struct ProtoReader
{
    private readonly ReadOnlyMemory<byte> message;
    private readonly int baseOffset;
    private int position;

    /// <summary>Starts reading <paramref name="message"/>.</summary>
    /// <param name="message">The encoded message.</param>
    /// <param name="baseOffset">Where the message starts in the whole file, for error messages.</param>
    public ProtoReader(ReadOnlyMemory<byte> message, int baseOffset = 0)
    {
        this.message = message;
        this.baseOffset = baseOffset;
        position = 0;
    }

    /// <summary>Offset of the next byte in the whole file.</summary>
    public readonly int FileOffset => baseOffset + position;

    /// <summary>
    /// Reads the next field's tag.
    /// </summary>
    /// <param name="fieldNumber">The field number.</param>
    /// <param name="wireType">How the field's value is encoded.</param>
    /// <returns><c>false</c> at the end of the message.</returns>
    public bool TryReadTag(out int fieldNumber, out ProtoWireType wireType)
    {
        if (position >= message.Length)
        {
            fieldNumber = 0;
            wireType = default;
            return false;
        }

        var start = FileOffset;
        var tag = ReadVarint();
        fieldNumber = (int)(tag >> 3);
        wireType = (ProtoWireType)(tag & 7);
        if (fieldNumber <= 0 || tag >> 3 > int.MaxValue)
        {
            throw Corrupt($"invalid field number {tag >> 3}", start);
        }

        return true;
    }

    /// <summary>Reads a base-128 varint.</summary>
    /// <returns>The raw 64-bit value.</returns>
    public ulong ReadVarint()
    {
        var span = message.Span;
        var start = FileOffset;
        ulong result = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (position >= span.Length)
            {
                throw Corrupt("a varint runs past the end of its message", start);
            }

            var b = span[position++];
            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return result;
            }
        }

        throw Corrupt("a varint is longer than 10 bytes", start);
    }

    /// <summary>Reads an <c>int64</c> (a varint in two's complement).</summary>
    /// <returns>The value.</returns>
    public long ReadInt64() => unchecked((long)ReadVarint());

    /// <summary>Reads an <c>int32</c> (negative values are sign-extended to 10 bytes on the wire).</summary>
    /// <returns>The value.</returns>
    public int ReadInt32() => unchecked((int)ReadVarint());

    /// <summary>Reads eight little-endian bytes.</summary>
    /// <returns>The value.</returns>
    public ulong ReadFixed64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8).Span);

    /// <summary>Reads four little-endian bytes.</summary>
    /// <returns>The value.</returns>
    public uint ReadFixed32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4).Span);

    /// <summary>Reads a <c>float</c>.</summary>
    /// <returns>The value.</returns>
    public float ReadFloat() => BitConverter.UInt32BitsToSingle(ReadFixed32());

    /// <summary>Reads a length-delimited field's bytes without copying them.</summary>
    /// <returns>A slice of the message.</returns>
    public ReadOnlyMemory<byte> ReadBytes()
    {
        var start = FileOffset;
        var length = ReadVarint();
        if (length > (ulong)(message.Length - position))
        {
            throw Corrupt($"a field claims {length} bytes but only {message.Length - position} remain", start);
        }

        return Take((int)length);
    }

    /// <summary>Reads a length-delimited UTF-8 string.</summary>
    /// <returns>The string.</returns>
    public string ReadString() => Encoding.UTF8.GetString(ReadBytes().Span);

    /// <summary>Reads a length-delimited sub-message.</summary>
    /// <returns>A reader over the sub-message.</returns>
    public ProtoReader ReadMessage()
    {
        var bytes = ReadBytes();
        return new ProtoReader(bytes, FileOffset - bytes.Length);
    }

    /// <summary>
    /// Reads a repeated <c>int64</c> field in either encoding: one varint, or a packed run of varints.
    /// </summary>
    /// <param name="wireType">The wire type from the field's tag.</param>
    /// <param name="values">Receives the values.</param>
    public void ReadRepeatedInt64(ProtoWireType wireType, List<long> values)
    {
        if (wireType == ProtoWireType.LengthDelimited)
        {
            var packed = ReadMessage();
            while (!packed.AtEnd)
            {
                values.Add(packed.ReadInt64());
            }
        }
        else
        {
            Expect(wireType, ProtoWireType.Varint);
            values.Add(ReadInt64());
        }
    }

    /// <summary>
    /// Reads a repeated <c>float</c> field in either encoding: one fixed32, or a packed run.
    /// </summary>
    /// <param name="wireType">The wire type from the field's tag.</param>
    /// <param name="values">Receives the values.</param>
    public void ReadRepeatedFloat(ProtoWireType wireType, List<float> values)
    {
        if (wireType == ProtoWireType.LengthDelimited)
        {
            var packed = ReadMessage();
            while (!packed.AtEnd)
            {
                values.Add(packed.ReadFloat());
            }
        }
        else
        {
            Expect(wireType, ProtoWireType.Fixed32);
            values.Add(ReadFloat());
        }
    }

    /// <summary>Whether every byte of the message has been read.</summary>
    public readonly bool AtEnd => position >= message.Length;

    /// <summary>
    /// Checks that a field has the wire type its schema says.
    /// </summary>
    /// <param name="actual">The wire type read from the tag.</param>
    /// <param name="expected">The wire type the schema requires.</param>
    public readonly void Expect(ProtoWireType actual, ProtoWireType expected)
    {
        if (actual != expected)
        {
            throw Corrupt($"a field has wire type {actual} where {expected} was expected", FileOffset);
        }
    }

    /// <summary>Skips the value of a field this reader does not need.</summary>
    /// <param name="wireType">The wire type from the field's tag.</param>
    public void Skip(ProtoWireType wireType)
    {
        switch (wireType)
        {
            case ProtoWireType.Varint:
                ReadVarint();
                break;
            case ProtoWireType.Fixed64:
                Take(8);
                break;
            case ProtoWireType.LengthDelimited:
                ReadBytes();
                break;
            case ProtoWireType.Fixed32:
                Take(4);
                break;
            default:
                // Groups were deprecated before ONNX existed; meeting one means the bytes are not ONNX.
                throw Corrupt($"unsupported wire type {(int)wireType}", FileOffset);
        }
    }

    private ReadOnlyMemory<byte> Take(int count)
    {
        if (count > message.Length - position)
        {
            throw Corrupt($"a field needs {count} bytes but only {message.Length - position} remain", FileOffset);
        }

        var slice = message.Slice(position, count);
        position += count;
        return slice;
    }

    private static InvalidDataException Corrupt(string problem, int offset) =>
        new($"The ONNX model is corrupt or truncated: {problem} (at byte {offset}).");
}
