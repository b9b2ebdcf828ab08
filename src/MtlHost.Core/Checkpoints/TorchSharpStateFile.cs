using System.Text;

namespace MtlHost.Core.Checkpoints;

/// <summary>
/// Reads the weight files TorchSharp's <c>Module.save</c> writes (checkpoint <c>encoder.bin</c>, <c>heads/*.bin</c>,
/// <c>branches/*.bin</c>) without building the module: so a checkpoint can be exported without its plugins.
/// </summary>
/// <remarks>
/// The format (TorchSharp's own, see its <c>exportsd.py</c>): an unsigned LEB128 entry count, then per entry the name
/// (LEB128 byte length, UTF-8), the element type (LEB128 <c>ScalarType</c> code), the rank and each dimension (LEB128),
/// and the raw little-endian elements.
/// </remarks>
public static class TorchSharpStateFile
{
    /// <summary>Reads every tensor of a file, in file order.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The tensors.</returns>
    /// <exception cref="InvalidDataException">The file is not in TorchSharp's format, or is truncated.</exception>
    public static IReadOnlyList<StoredTensor> Read(string path)
    {
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        try
        {
            var count = ReadLeb128(reader);
            var tensors = new List<StoredTensor>((int)Math.Min(count, 100_000));
            for (long i = 0; i < count; i++)
            {
                var nameLength = (int)ReadLeb128(reader);
                var name = Encoding.UTF8.GetString(reader.ReadBytes(nameLength));
                var code = ReadLeb128(reader);
                var dtype = DTypeOf(code, path, name);
                var rank = (int)ReadLeb128(reader);
                var shape = new long[rank];
                for (var d = 0; d < rank; d++)
                {
                    shape[d] = ReadLeb128(reader);
                }
                var bytes = checked(shape.Aggregate(1L, (a, b) => a * b) * StoredTensor.ElementSize(dtype));
                var data = reader.ReadBytes(checked((int)bytes));
                if (data.Length != bytes)
                {
                    throw new EndOfStreamException();
                }
                tensors.Add(new StoredTensor(name, dtype, shape, data));
            }
            if (stream.Position != stream.Length)
            {
                throw new InvalidDataException($"'{path}' has {stream.Length - stream.Position} bytes after its last tensor; it is not a TorchSharp weights file.");
            }
            return tensors;
        }
        catch (Exception e) when (e is EndOfStreamException or OverflowException or ArgumentException)
        {
            throw new InvalidDataException($"'{path}' is not a complete TorchSharp weights file ({e.Message}).", e);
        }
    }

    private static string DTypeOf(long code, string path, string name) => code switch
    {
        0 => "U8",
        1 => "I8",
        2 => "I16",
        3 => "I32",
        4 => "I64",
        5 => "F16",
        6 => "F32",
        7 => "F64",
        11 => "BOOL",
        15 => "BF16",
        _ => throw new InvalidDataException($"'{path}': tensor '{name}' has element type code {code}, which export does not support."),
    };

    private static long ReadLeb128(BinaryReader reader)
    {
        long value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            var b = reader.ReadByte();
            value |= (long)(b & 0x7f) << shift;
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }
        throw new InvalidDataException("A length in the file is longer than 64 bits.");
    }
}
