namespace MtlHost.Core.Encoders.Onnx;

/// <summary>
/// An ONNX <c>AttributeProto</c>, reduced to the value kinds a weight importer reads.
/// </summary>
internal sealed class OnnxAttribute
{
    private OnnxAttribute()
    {
    }

    /// <summary>The attribute's name, e.g. <c>transB</c>, <c>epsilon</c>, <c>value</c>.</summary>
    public string Name { get; private set; } = "";

    /// <summary>The <c>f</c> value, if set.</summary>
    public float? Float { get; private set; }

    /// <summary>The <c>i</c> value, if set.</summary>
    public long? Int { get; private set; }

    /// <summary>The <c>t</c> value, if set.</summary>
    public OnnxTensor? Tensor { get; private set; }

    /// <summary>The <c>ints</c> values.</summary>
    public IReadOnlyList<long> Ints { get; private set; } = [];

    /// <summary>The <c>floats</c> values.</summary>
    public IReadOnlyList<float> Floats { get; private set; } = [];

    /// <summary>
    /// Reads an <c>AttributeProto</c>, skipping graphs, strings and other kinds.
    /// </summary>
    /// <param name="reader">A reader positioned on the message.</param>
    /// <returns>The attribute.</returns>
    public static OnnxAttribute Parse(ProtoReader reader)
    {
        var attribute = new OnnxAttribute();
        var ints = new List<long>();
        var floats = new List<float>();
        while (reader.TryReadTag(out var field, out var wire))
        {
            switch (field)
            {
                case 1: reader.Expect(wire, ProtoWireType.LengthDelimited); attribute.Name = reader.ReadString(); break;
                case 2: reader.Expect(wire, ProtoWireType.Fixed32); attribute.Float = reader.ReadFloat(); break;
                case 3: reader.Expect(wire, ProtoWireType.Varint); attribute.Int = reader.ReadInt64(); break;
                case 5: reader.Expect(wire, ProtoWireType.LengthDelimited); attribute.Tensor = OnnxTensor.Parse(reader.ReadMessage()); break;
                case 7: reader.ReadRepeatedFloat(wire, floats); break;
                case 8: reader.ReadRepeatedInt64(wire, ints); break;
                default: reader.Skip(wire); break;
            }
        }

        attribute.Ints = ints;
        attribute.Floats = floats;
        return attribute;
    }
}
