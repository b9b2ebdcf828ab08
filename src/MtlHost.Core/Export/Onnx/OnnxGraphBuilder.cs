using System.Globalization;
using System.Runtime.InteropServices;
using MtlHost.Core.Encoders.Onnx;

namespace MtlHost.Core.Export.Onnx;

/// <summary>
/// Builds one ONNX model (<c>ModelProto</c>, IR version 8, standard opset 17 only) node by node and writes it in the protobuf wire format, without the onnx package.
/// </summary>
/// <remarks>Node outputs get unique generated names unless a name is asked for (the graph's outputs).</remarks>
internal sealed class OnnxGraphBuilder
{
    /// <summary>The standard operator set the graph is written against.</summary>
    public const int Opset = 17;

    // IR version 8 is the one that goes with opset 17 (onnx/docs/Versioning.md).
    private const long IrVersion = 8;

    private readonly List<ProtoWriter> _nodes = [];
    private readonly List<ProtoWriter> _initializers = [];
    private readonly List<ProtoWriter> _inputs = [];
    private readonly List<ProtoWriter> _outputs = [];
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _constants = new(StringComparer.Ordinal);
    private readonly Dictionary<string, byte[]> _initializerDigests = new(StringComparer.Ordinal);
    private int _counter;

    /// <summary>Bytes of every initializer (the weights): about the model file's size.</summary>
    public long InitializerBytes { get; private set; }

    /// <summary>Adds a weight or constant, or names the one already added under that name with the same contents.</summary>
    /// <param name="name">Its name; unused, or an initializer's with the same type, shape and bytes (the shared encoder's weights, which every adapters branch runs).</param>
    /// <param name="type">Element type.</param>
    /// <param name="dims">Shape.</param>
    /// <param name="raw">Little-endian element bytes.</param>
    /// <returns><paramref name="name"/>.</returns>
    /// <exception cref="InvalidOperationException">The name is taken by another value.</exception>
    public string Initializer(string name, OnnxDataType type, IReadOnlyList<long> dims, ReadOnlySpan<byte> raw)
    {
        var digest = Digest(type, dims, raw);
        if (_initializerDigests.TryGetValue(name, out var existing) && existing.AsSpan().SequenceEqual(digest))
        {
            return name;
        }
        Claim(name);
        _initializerDigests[name] = digest;
        // TensorProto: dims 1, data_type 2, name 8, raw_data 9.
        var tensor = new ProtoWriter().PackedInts(1, dims).Int(2, (int)type).String(8, name).Bytes(9, raw);
        _initializers.Add(tensor);
        InitializerBytes += raw.Length;
        return name;
    }

    /// <summary>Adds a float weight.</summary>
    public string Floats(string name, float[] values, params long[] dims) =>
        Initializer(name, OnnxDataType.Float, dims, MemoryMarshal.AsBytes(values.AsSpan()));

    /// <summary>Adds an int8 weight.</summary>
    public string Int8s(string name, sbyte[] values, params long[] dims) =>
        Initializer(name, OnnxDataType.Int8, dims, MemoryMarshal.AsBytes(values.AsSpan()));

    /// <summary>Adds an int32 weight.</summary>
    public string Int32s(string name, int[] values, params long[] dims) =>
        Initializer(name, OnnxDataType.Int32, dims, MemoryMarshal.AsBytes(values.AsSpan()));

    /// <summary>A float scalar constant, shared by every node that uses the same value.</summary>
    public string Scalar(float value) => Constant($"const_f_{value.ToString("R", CultureInfo.InvariantCulture)}",
        name => Floats(name, [value]));

    /// <summary>A uint8 scalar constant, shared by every node that uses the same value.</summary>
    public string UInt8Scalar(byte value) => Constant($"const_u8_{value.ToString(CultureInfo.InvariantCulture)}",
        name => Initializer(name, OnnxDataType.UInt8, [], [value]));

    /// <summary>An int64 constant (a scalar when <paramref name="scalar"/>, else a 1-D tensor), shared by every node that uses the same values.</summary>
    public string Int64s(bool scalar, params long[] values) => Constant(
        $"const_i{(scalar ? "s" : "v")}_{string.Join("_", values.Select(v => v.ToString(CultureInfo.InvariantCulture)))}",
        name => Initializer(name, OnnxDataType.Int64, scalar ? [] : [values.Length], MemoryMarshal.AsBytes(values.AsSpan())));

    /// <summary>Adds a node with one output.</summary>
    /// <param name="op">Operator type.</param>
    /// <param name="inputs">Input names; an empty string is an omitted optional input.</param>
    /// <param name="output">Name of the output, or <see langword="null"/> for a generated one.</param>
    /// <param name="attributes">Attributes.</param>
    /// <returns>The output's name.</returns>
    public string Node(string op, IReadOnlyList<string> inputs, string? output = null, params NodeAttribute[] attributes)
    {
        output ??= Fresh(op);
        Claim(output);
        // NodeProto: input 1, output 2, name 3, op_type 4, attribute 5.
        var node = new ProtoWriter();
        foreach (var input in inputs)
        {
            node.String(1, input);
        }
        node.String(2, output).String(3, $"{op}_{_nodes.Count}").String(4, op);
        foreach (var attribute in attributes)
        {
            node.Message(5, attribute.ToProto());
        }
        _nodes.Add(node);
        return output;
    }

    /// <summary>Declares a graph input.</summary>
    /// <param name="name">Its name.</param>
    /// <param name="type">Element type.</param>
    /// <param name="dims">Each dimension: a <see cref="long"/> size or a <see cref="string"/> symbolic name.</param>
    public string Input(string name, OnnxDataType type, params object[] dims)
    {
        Claim(name);
        _inputs.Add(ValueInfo(name, type, dims));
        return name;
    }

    /// <summary>Declares a graph output (a node must produce <paramref name="name"/>).</summary>
    /// <param name="name">Its name.</param>
    /// <param name="type">Element type.</param>
    /// <param name="dims">Each dimension: a <see cref="long"/> size or a <see cref="string"/> symbolic name.</param>
    public void Output(string name, OnnxDataType type, params object[] dims) => _outputs.Add(ValueInfo(name, type, dims));

    /// <summary>Writes the model.</summary>
    /// <param name="path">The file.</param>
    /// <param name="graphName">Name of the graph.</param>
    /// <param name="metadata">String metadata (<c>metadata_props</c>).</param>
    public void Write(string path, string graphName, IReadOnlyDictionary<string, string> metadata)
    {
        // GraphProto: node 1, name 2, initializer 5, input 11, output 12.
        var graph = new ProtoWriter();
        foreach (var node in _nodes)
        {
            graph.Message(1, node);
        }
        graph.String(2, graphName);
        foreach (var initializer in _initializers)
        {
            graph.Message(5, initializer);
        }
        foreach (var input in _inputs)
        {
            graph.Message(11, input);
        }
        foreach (var output in _outputs)
        {
            graph.Message(12, output);
        }

        // ModelProto: ir_version 1, producer_name 2, producer_version 3, graph 7, opset_import 8, metadata_props 14.
        var model = new ProtoWriter().Int(1, IrVersion).String(2, "mtlhost").String(3, typeof(OnnxGraphBuilder).Assembly.GetName().Version?.ToString() ?? "")
            .Message(7, graph)
            // OperatorSetIdProto: domain 1, version 2.
            .Message(8, new ProtoWriter().String(1, "").Int(2, Opset));
        foreach (var (key, value) in metadata)
        {
            // StringStringEntryProto: key 1, value 2.
            model.Message(14, new ProtoWriter().String(1, key).String(2, value));
        }
        using var file = File.Create(path);
        model.CopyTo(file);
    }

    private static ProtoWriter ValueInfo(string name, OnnxDataType type, object[] dims)
    {
        // TensorShapeProto.Dimension: dim_value 1, dim_param 2.
        var shape = new ProtoWriter();
        foreach (var dim in dims)
        {
            shape.Message(1, dim switch
            {
                string symbol => new ProtoWriter().String(2, symbol),
                _ => new ProtoWriter().Int(1, Convert.ToInt64(dim, CultureInfo.InvariantCulture)),
            });
        }
        // ValueInfoProto: name 1, type 2; TypeProto: tensor_type 1; TypeProto.Tensor: elem_type 1, shape 2.
        var tensorType = new ProtoWriter().Int(1, (int)type).Message(2, shape);
        return new ProtoWriter().String(1, name).Message(2, new ProtoWriter().Message(1, tensorType));
    }

    private static byte[] Digest(OnnxDataType type, IReadOnlyList<long> dims, ReadOnlySpan<byte> raw)
    {
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        hash.AppendData(BitConverter.GetBytes((int)type));
        foreach (var dim in dims)
        {
            hash.AppendData(BitConverter.GetBytes(dim));
        }
        hash.AppendData(raw);
        return hash.GetHashAndReset();
    }

    private string Constant(string name, Func<string, string> add)
    {
        if (!_constants.TryGetValue(name, out var existing))
        {
            existing = add(name);
            _constants[name] = existing;
        }
        return existing;
    }

    private string Fresh(string op)
    {
        string name;
        do
        {
            name = $"{op.ToLowerInvariant()}_{_counter++}";
        }
        while (_names.Contains(name));
        return name;
    }

    private void Claim(string name)
    {
        if (!_names.Add(name))
        {
            throw new InvalidOperationException($"The ONNX graph already has a value named '{name}'; every value name must be unique.");
        }
    }
}
