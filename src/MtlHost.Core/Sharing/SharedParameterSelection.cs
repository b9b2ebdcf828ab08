using System.Globalization;
using MtlHost.Core.Encoders;
using TorchSharp.Modules;

namespace MtlHost.Core.Sharing;

/// <summary>Picks shared-encoder parameters by their (Hugging Face) names.</summary>
internal static class SharedParameterSelection
{
    /// <summary>
    /// The embeddings and the bottom <paramref name="layerCount"/> layers, in the encoder's parameter order.
    /// </summary>
    /// <param name="shared">The shared encoder.</param>
    /// <param name="layerCount">How many bottom layers to include.</param>
    /// <returns>The parameters.</returns>
    public static IReadOnlyList<Parameter> EmbeddingsAndBottomLayers(BertEncoder shared, int layerCount)
    {
        ArgumentNullException.ThrowIfNull(shared);
        var prefixes = Enumerable.Range(0, layerCount)
            .Select(i => string.Create(CultureInfo.InvariantCulture, $"encoder.layer.{i}."))
            .Append("embeddings.")
            .ToArray();
        return shared.named_parameters()
            .Where(p => prefixes.Any(prefix => p.name.StartsWith(prefix, StringComparison.Ordinal)))
            .Select(p => p.parameter)
            .ToList();
    }
}
