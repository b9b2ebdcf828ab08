using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MtlHost.Core.Checkpoints;

namespace MtlHost.Core.Export;

/// <summary>
/// Writes and reads the safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian header
/// length, a JSON header <c>{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}</c>, then
/// the tensors' raw little-endian bytes, offsets relative to the end of the header.
/// </summary>
public static class SafeTensorsFile
{
    /// <summary>Writes tensors to a file, in the order given.</summary>
    /// <param name="path">The file; its folder is created.</param>
    /// <param name="tensors">The tensors; names must be unique.</param>
    /// <param name="metadata">String metadata stored under <c>__metadata__</c>.</param>
    /// <exception cref="ArgumentException">Two tensors share a name, or a tensor's bytes do not match its shape and type.</exception>
    public static void Write(string path, IReadOnlyList<StoredTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
        {
            var meta = new JsonObject();
            foreach (var (key, value) in metadata)
            {
                meta[key] = value;
            }
            header["__metadata__"] = meta;
        }
        long offset = 0;
        foreach (var tensor in tensors)
        {
            if (header.ContainsKey(tensor.Name))
            {
                throw new ArgumentException($"Tensor name '{tensor.Name}' appears twice; safetensors names are unique.", nameof(tensors));
            }
            if (tensor.Data.LongLength != tensor.ElementCount * StoredTensor.ElementSize(tensor.DType))
            {
                throw new ArgumentException($"Tensor '{tensor.Name}' has {tensor.Data.LongLength} bytes, but {tensor.DType} [{string.Join(", ", tensor.Shape)}] needs " +
                                            $"{tensor.ElementCount * StoredTensor.ElementSize(tensor.DType)}.", nameof(tensors));
            }
            header[tensor.Name] = new JsonObject
            {
                ["dtype"] = tensor.DType,
                ["shape"] = new JsonArray(tensor.Shape.Select(s => (JsonNode)JsonValue.Create(s)).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + tensor.Data.LongLength),
            };
            offset += tensor.Data.LongLength;
        }

        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        // Spaces pad the header to a multiple of 8 so the data starts aligned, as the reference writer does.
        var padded = (json.Length + 7) / 8 * 8;
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        using var stream = File.Create(path);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
        stream.Write(length);
        stream.Write(json);
        for (var i = json.Length; i < padded; i++)
        {
            stream.WriteByte((byte)' ');
        }
        foreach (var tensor in tensors)
        {
            stream.Write(tensor.Data);
        }
    }

    /// <summary>Reads every tensor of a file, in data order, and its metadata.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The tensors and the metadata.</returns>
    /// <exception cref="InvalidDataException">The file is not valid safetensors.</exception>
    public static (IReadOnlyList<StoredTensor> Tensors, IReadOnlyDictionary<string, string> Metadata) Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 8)
        {
            throw new InvalidDataException($"'{path}' is shorter than a safetensors header.");
        }
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > (ulong)(bytes.Length - 8))
        {
            throw new InvalidDataException($"'{path}': header length {headerLength} is beyond the end of the file.");
        }
        using var header = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLength));
        var start = 8 + (int)headerLength;
        var tensors = new List<(long Begin, StoredTensor Tensor)>();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var property in header.RootElement.EnumerateObject())
        {
            if (property.Name == "__metadata__")
            {
                foreach (var entry in property.Value.EnumerateObject())
                {
                    metadata[entry.Name] = entry.Value.GetString() ?? "";
                }
                continue;
            }
            var dtype = property.Value.GetProperty("dtype").GetString()!;
            var shape = property.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            var offsets = property.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            if (offsets.Length != 2 || offsets[0] > offsets[1] || start + offsets[1] > bytes.Length)
            {
                throw new InvalidDataException($"'{path}': tensor '{property.Name}' has data offsets outside the file.");
            }
            var data = bytes.AsSpan(start + (int)offsets[0], (int)(offsets[1] - offsets[0])).ToArray();
            tensors.Add((offsets[0], new StoredTensor(property.Name, dtype, shape, data)));
        }
        return (tensors.OrderBy(t => t.Begin).Select(t => t.Tensor).ToList(), metadata);
    }
}
