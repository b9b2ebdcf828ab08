namespace MtlHost.Core.Encoders.Onnx;

/// <summary>
/// An ONNX <c>NodeProto</c>: one operator application in the graph.
/// </summary>
internal sealed class OnnxNode
{
    private OnnxNode()
    {
    }

    /// <summary>The node's name (may be empty).</summary>
    public string Name { get; private set; } = "";

    /// <summary>The operator, e.g. <c>MatMul</c>.</summary>
    public string OpType { get; private set; } = "";

    /// <summary>Names of the input values; an empty name is an omitted optional input.</summary>
    public IReadOnlyList<string> Inputs { get; private set; } = [];

    /// <summary>Names of the output values.</summary>
    public IReadOnlyList<string> Outputs { get; private set; } = [];

    /// <summary>The attributes.</summary>
    public IReadOnlyList<OnnxAttribute> Attributes { get; private set; } = [];

    /// <summary>Finds an attribute by name.</summary>
    /// <param name="name">The attribute name.</param>
    /// <returns>The attribute, or <c>null</c> when the node does not set it.</returns>
    public OnnxAttribute? Attribute(string name) => Attributes.FirstOrDefault(a => a.Name == name);

    /// <summary>Describes the node for messages.</summary>
    /// <returns>Operator and name.</returns>
    public override string ToString() => Name.Length > 0 ? $"{OpType} node '{Name}'" : $"{OpType} node";

    /// <summary>
    /// Reads a <c>NodeProto</c>.
    /// </summary>
    /// <param name="reader">A reader positioned on the message.</param>
    /// <returns>The node.</returns>
    public static OnnxNode Parse(ProtoReader reader)
    {
        var node = new OnnxNode();
        var inputs = new List<string>();
        var outputs = new List<string>();
        var attributes = new List<OnnxAttribute>();
        while (reader.TryReadTag(out var field, out var wire))
        {
            switch (field)
            {
                case 1: reader.Expect(wire, ProtoWireType.LengthDelimited); inputs.Add(reader.ReadString()); break;
                case 2: reader.Expect(wire, ProtoWireType.LengthDelimited); outputs.Add(reader.ReadString()); break;
                case 3: reader.Expect(wire, ProtoWireType.LengthDelimited); node.Name = reader.ReadString(); break;
                case 4: reader.Expect(wire, ProtoWireType.LengthDelimited); node.OpType = reader.ReadString(); break;
                case 5: reader.Expect(wire, ProtoWireType.LengthDelimited); attributes.Add(OnnxAttribute.Parse(reader.ReadMessage())); break;
                default: reader.Skip(wire); break;
            }
        }

        node.Inputs = inputs;
        node.Outputs = outputs;
        node.Attributes = attributes;
        return node;
    }
}
