namespace MtlHost.Core.Encoders.Onnx;

/// <summary>
/// The main graph of an ONNX model: nodes, initializers, inputs and outputs, with lookups by value name.
/// </summary>
internal sealed class OnnxGraph
{
    private readonly Dictionary<string, OnnxNode> producers = [];
    private readonly Dictionary<string, List<OnnxNode>> consumers = [];

    private OnnxGraph(List<OnnxNode> nodes, List<OnnxTensor> initializers, List<string> inputs, List<string> outputs)
    {
        Nodes = nodes;
        Inputs = inputs;
        Outputs = outputs;

        var byName = new Dictionary<string, OnnxTensor>();
        foreach (var initializer in initializers)
        {
            if (!byName.TryAdd(initializer.Name, initializer))
            {
                throw new InvalidDataException($"The ONNX graph has two initializers named '{initializer.Name}'.");
            }
        }

        Initializers = byName;

        foreach (var node in nodes)
        {
            foreach (var output in node.Outputs)
            {
                producers[output] = node;
            }

            foreach (var input in node.Inputs.Where(i => i.Length > 0).Distinct())
            {
                if (!consumers.TryGetValue(input, out var list))
                {
                    consumers[input] = list = [];
                }

                list.Add(node);
            }
        }
    }

    /// <summary>The nodes in file order (ONNX requires topological order).</summary>
    public IReadOnlyList<OnnxNode> Nodes { get; }

    /// <summary>The initializers (stored constants, i.e. weights) by name.</summary>
    public IReadOnlyDictionary<string, OnnxTensor> Initializers { get; }

    /// <summary>Names of the graph's inputs.</summary>
    public IReadOnlyList<string> Inputs { get; }

    /// <summary>Names of the graph's outputs.</summary>
    public IReadOnlyList<string> Outputs { get; }

    /// <summary>
    /// Reads the graph of a serialised <c>ModelProto</c>.
    /// </summary>
    /// <param name="model">The whole .onnx file.</param>
    /// <returns>The main graph.</returns>
    /// <exception cref="InvalidDataException">The bytes are not an ONNX model.</exception>
    public static OnnxGraph ParseModel(ReadOnlyMemory<byte> model)
    {
        var reader = new ProtoReader(model);
        OnnxGraph? graph = null;
        while (reader.TryReadTag(out var field, out var wire))
        {
            if (field == 7 && wire == ProtoWireType.LengthDelimited)
            {
                graph = ParseGraph(reader.ReadMessage());
            }
            else
            {
                reader.Skip(wire);
            }
        }

        return graph ?? throw new InvalidDataException("The file is not an ONNX model: it has no graph (ModelProto field 7).");
    }

    /// <summary>The node that produces a value, if any (graph inputs and initializers have none).</summary>
    /// <param name="value">The value name.</param>
    /// <returns>The producing node, or <c>null</c>.</returns>
    public OnnxNode? ProducerOf(string value) => producers.GetValueOrDefault(value);

    /// <summary>The nodes that read a value.</summary>
    /// <param name="value">The value name.</param>
    /// <returns>The consuming nodes, in graph order.</returns>
    public IReadOnlyList<OnnxNode> ConsumersOf(string value) =>
        consumers.TryGetValue(value, out var list) ? list : [];

    /// <summary>
    /// The value of an integer constant: an INT64/INT32 initializer or the output of a <c>Constant</c> node.
    /// </summary>
    /// <param name="value">The value name.</param>
    /// <returns>The values, or <c>null</c> when the value is computed at run time.</returns>
    public long[]? Int64ConstantOf(string value)
    {
        if (Initializers.TryGetValue(value, out var initializer))
        {
            return initializer.DataType is OnnxDataType.Int64 or OnnxDataType.Int32 ? initializer.ToInt64s() : null;
        }

        if (ProducerOf(value) is not { OpType: "Constant" } node)
        {
            return null;
        }

        if (node.Attribute("value")?.Tensor is { DataType: OnnxDataType.Int64 or OnnxDataType.Int32 } tensor)
        {
            return tensor.ToInt64s();
        }

        if (node.Attribute("value_ints") is { } ints)
        {
            return [.. ints.Ints];
        }

        return node.Attribute("value_int")?.Int is { } single ? [single] : null;
    }

    /// <summary>
    /// The value of a floating-point scalar constant: a one-element initializer or <c>Constant</c> node output.
    /// </summary>
    /// <param name="value">The value name.</param>
    /// <returns>The value, or <c>null</c> when it is not a constant floating-point scalar.</returns>
    public float? FloatScalarOf(string value)
    {
        var tensor = Initializers.GetValueOrDefault(value);
        if (tensor is null && ProducerOf(value) is { OpType: "Constant" } node)
        {
            if (node.Attribute("value_float")?.Float is { } single)
            {
                return single;
            }

            tensor = node.Attribute("value")?.Tensor;
        }

        return tensor is { DataType: OnnxDataType.Float or OnnxDataType.Float16 or OnnxDataType.Double, ElementCount: 1 }
            ? tensor.ToFloats()[0]
            : null;
    }

    private static OnnxGraph ParseGraph(ProtoReader reader)
    {
        var nodes = new List<OnnxNode>();
        var initializers = new List<OnnxTensor>();
        var inputs = new List<string>();
        var outputs = new List<string>();
        while (reader.TryReadTag(out var field, out var wire))
        {
            switch (field)
            {
                case 1: reader.Expect(wire, ProtoWireType.LengthDelimited); nodes.Add(OnnxNode.Parse(reader.ReadMessage())); break;
                case 5: reader.Expect(wire, ProtoWireType.LengthDelimited); initializers.Add(OnnxTensor.Parse(reader.ReadMessage())); break;
                case 11: reader.Expect(wire, ProtoWireType.LengthDelimited); inputs.Add(ReadValueInfoName(reader.ReadMessage())); break;
                case 12: reader.Expect(wire, ProtoWireType.LengthDelimited); outputs.Add(ReadValueInfoName(reader.ReadMessage())); break;
                default: reader.Skip(wire); break;
            }
        }

        return new OnnxGraph(nodes, initializers, inputs, outputs);
    }

    private static string ReadValueInfoName(ProtoReader reader)
    {
        var name = "";
        while (reader.TryReadTag(out var field, out var wire))
        {
            if (field == 1 && wire == ProtoWireType.LengthDelimited)
            {
                name = reader.ReadString();
            }
            else
            {
                reader.Skip(wire);
            }
        }

        return name;
    }
}
