using System.Buffers.Binary;
using System.Text;

namespace MtlHost.Tests.Observers;

/// <summary>
/// Reads scalar summaries out of TensorBoard event files with no TensorBoard or protobuf library: TFRecord
/// framing (length, masked CRC-32C of the length, data, masked CRC-32C of the data) and the few protobuf
/// fields of <c>Event</c> (step = 2, summary = 5) and <c>Summary.Value</c> (tag = 1, simple_value = 2).
/// </summary>
internal static class TensorBoardEventReader
{
    /// <summary>One scalar.</summary>
    /// <param name="Tag">Its tag.</param>
    /// <param name="Step">Its step.</param>
    /// <param name="Value">Its value.</param>
    public sealed record Scalar(string Tag, long Step, float Value);

    /// <summary>Every scalar of every event file in <paramref name="directory"/>.</summary>
    /// <param name="directory">A TensorBoard log folder.</param>
    /// <returns>The scalars in file order.</returns>
    public static List<Scalar> ReadDirectory(string directory) =>
        Directory.GetFiles(directory, "events.out.tfevents.*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            .SelectMany(f => Read(File.ReadAllBytes(f))).ToList();

    /// <summary>The scalars of one event file; throws on a bad frame or checksum.</summary>
    /// <param name="file">The file's bytes.</param>
    /// <returns>The scalars.</returns>
    public static IEnumerable<Scalar> Read(byte[] file)
    {
        var scalars = new List<Scalar>();
        var position = 0;
        while (position < file.Length)
        {
            var lengthBytes = file.AsSpan(position, 8);
            var length = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes));
            if (BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(position + 8, 4)) != MaskedCrc(lengthBytes))
            {
                throw new InvalidDataException($"bad length checksum at byte {position}");
            }
            var data = file.AsSpan(position + 12, length);
            if (BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(position + 12 + length, 4)) != MaskedCrc(data))
            {
                throw new InvalidDataException($"bad data checksum at byte {position}");
            }
            scalars.AddRange(ReadEvent(data.ToArray()));
            position += 12 + length + 4;
        }
        return scalars;
    }

    private static IEnumerable<Scalar> ReadEvent(byte[] message)
    {
        long step = 0;
        var summaries = new List<byte[]>();
        foreach (var (field, wireType, value, bytes) in Fields(message))
        {
            if (field == 2 && wireType == 0)
            {
                step = (long)value;
            }
            else if (field == 5 && wireType == 2)
            {
                summaries.Add(bytes!);
            }
        }
        foreach (var summary in summaries)
        {
            foreach (var (field, wireType, _, valueBytes) in Fields(summary))
            {
                if (field != 1 || wireType != 2)
                {
                    continue;
                }
                string? tag = null;
                float? simple = null;
                foreach (var (f, w, v, b) in Fields(valueBytes!))
                {
                    if (f == 1 && w == 2)
                    {
                        tag = Encoding.UTF8.GetString(b!);
                    }
                    else if (f == 2 && w == 5)
                    {
                        simple = BitConverter.Int32BitsToSingle((int)v);
                    }
                }
                if (tag is not null && simple is not null)
                {
                    yield return new Scalar(tag, step, simple.Value);
                }
            }
        }
    }

    private static IEnumerable<(int Field, int WireType, ulong Value, byte[]? Bytes)> Fields(byte[] message)
    {
        var position = 0;
        while (position < message.Length)
        {
            var key = Varint(message, ref position);
            var field = (int)(key >> 3);
            var wireType = (int)(key & 7);
            switch (wireType)
            {
                case 0:
                    yield return (field, wireType, Varint(message, ref position), null);
                    break;
                case 1:
                    yield return (field, wireType, BinaryPrimitives.ReadUInt64LittleEndian(message.AsSpan(position, 8)), null);
                    position += 8;
                    break;
                case 2:
                    var length = (int)Varint(message, ref position);
                    yield return (field, wireType, 0, message.AsSpan(position, length).ToArray());
                    position += length;
                    break;
                case 5:
                    yield return (field, wireType, BinaryPrimitives.ReadUInt32LittleEndian(message.AsSpan(position, 4)), null);
                    position += 4;
                    break;
                default:
                    throw new InvalidDataException($"unexpected protobuf wire type {wireType}");
            }
        }
    }

    private static ulong Varint(byte[] message, ref int position)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = message[position++];
            value |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }
    }

    // TFRecord's checksum: CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), rotated and offset ("masked").
    private static uint MaskedCrc(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var i = 0; i < 8; i++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
            }
        }
        crc = ~crc;
        return unchecked(((crc >> 15) | (crc << 17)) + 0xa282ead8u);
    }
}
