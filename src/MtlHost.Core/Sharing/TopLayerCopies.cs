using System.Globalization;
using MtlHost.Core.Encoders;
using static TorchSharp.torch.nn;

namespace MtlHost.Core.Sharing;

/// <summary>
/// A branch's copies of encoder layers k to L − 1, registered under the encoder's layer indices ("4", "5"), so
/// that their state-dict names read like the encoder's (<c>4.attention.self.query.weight</c>).
/// </summary>
/// <remarks>
/// Not TorchSharp's <c>ModuleDict</c>, which would name them the same way: in 0.107 its <c>to(dtype)</c> throws
/// ("An item with the same key has already been added. Key: Item").
/// </remarks>
internal sealed class TopLayerCopies : Module
{
    private readonly BertLayer[] copies;

    /// <summary>
    /// Registers the copies.
    /// </summary>
    /// <param name="firstIndex">Encoder index of the first copy (k).</param>
    /// <param name="layers">The copies, bottom first.</param>
    public TopLayerCopies(int firstIndex, IReadOnlyList<BertLayer> layers) : base(nameof(TopLayerCopies))
    {
        copies = layers.ToArray();
        for (var i = 0; i < copies.Length; i++)
        {
            register_module((firstIndex + i).ToString(CultureInfo.InvariantCulture), copies[i]);
        }
    }

    /// <summary>The copies, bottom first.</summary>
    public IReadOnlyList<BertLayer> Layers => copies;
}
