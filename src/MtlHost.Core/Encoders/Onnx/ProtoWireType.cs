namespace MtlHost.Core.Encoders.Onnx;

/// <summary>
/// Protocol buffers wire types: how a field's bytes are laid out.
/// </summary>
internal enum ProtoWireType
{
    /// <summary>Base-128 varint (int32, int64, uint*, bool, enum).</summary>
    Varint = 0,

    /// <summary>Eight little-endian bytes (fixed64, sfixed64, double).</summary>
    Fixed64 = 1,

    /// <summary>Varint length, then that many bytes (string, bytes, sub-message, packed repeated).</summary>
    LengthDelimited = 2,

    /// <summary>Deprecated group start; not used by ONNX.</summary>
    StartGroup = 3,

    /// <summary>Deprecated group end; not used by ONNX.</summary>
    EndGroup = 4,

    /// <summary>Four little-endian bytes (fixed32, sfixed32, float).</summary>
    Fixed32 = 5,
}
