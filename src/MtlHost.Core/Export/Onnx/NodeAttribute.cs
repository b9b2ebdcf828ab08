namespace MtlHost.Core.Export.Onnx;

/// <summary>An attribute of an ONNX node (<c>AttributeProto</c>): an integer, a float or a list of integers.</summary>
internal sealed record NodeAttribute
{
    // AttributeProto.AttributeType values.
    private const int FloatType = 1;
    private const int IntType = 2;
    private const int IntsType = 7;

    private NodeAttribute(string name, int type, long integer, float number, IReadOnlyList<long> integers)
    {
        Name = name;
        Type = type;
        Integer = integer;
        Number = number;
        Integers = integers;
    }

    /// <summary>The attribute's name.</summary>
    public string Name { get; }

    private int Type { get; }

    private long Integer { get; }

    private float Number { get; }

    private IReadOnlyList<long> Integers { get; }

    /// <summary>An integer attribute.</summary>
    public static NodeAttribute Int(string name, long value) => new(name, IntType, value, 0, []);

    /// <summary>A float attribute.</summary>
    public static NodeAttribute Float(string name, float value) => new(name, FloatType, 0, value, []);

    /// <summary>A list-of-integers attribute.</summary>
    public static NodeAttribute Ints(string name, params long[] values) => new(name, IntsType, 0, 0, values);

    /// <summary>The <c>AttributeProto</c> message.</summary>
    public ProtoWriter ToProto()
    {
        // AttributeProto: name 1, f 2, i 3, ints 8, type 20.
        var proto = new ProtoWriter().String(1, Name);
        switch (Type)
        {
            case FloatType:
                proto.Float(2, Number);
                break;
            case IntType:
                proto.Int(3, Integer);
                break;
            default:
                foreach (var value in Integers)
                {
                    proto.Int(8, value);
                }
                break;
        }
        return proto.Int(20, Type);
    }
}
