using MtlHost.Core.Encoders;
using TorchSharp.Modules;

namespace MtlHost.Core.Sharing;

/// <summary>
/// Adapters (Houlsby et al. 2019): every branch uses the whole shared encoder, with two small bottleneck
/// adapters of its own inside each layer. Whether the shared encoder is also trained is decided elsewhere
/// (<c>--freeze-encoder</c>); frozen, a branch's adapters are all it learns.
/// </summary>
public sealed class AdapterSharing : ISharingStrategy
{
    /// <summary>The strategy's name.</summary>
    public const string StrategyName = "adapters";

    /// <summary>
    /// Creates the strategy.
    /// </summary>
    /// <param name="adapterSize">a, the bottleneck width of every adapter.</param>
    /// <exception cref="ArgumentException"><paramref name="adapterSize"/> is not positive.</exception>
    public AdapterSharing(int adapterSize = SharingOptions.DefaultAdapterSize)
    {
        CheckAdapterSize(adapterSize);
        AdapterSize = adapterSize;
    }

    /// <summary>a, the bottleneck width.</summary>
    public int AdapterSize { get; }

    /// <inheritdoc/>
    public string Name => StrategyName;

    /// <inheritdoc/>
    public void Validate(BertConfig config) => ArgumentNullException.ThrowIfNull(config);

    /// <inheritdoc/>
    public EncoderBranch CreateBranch(string branchName, BertEncoder shared) => new AdapterBranch(branchName, shared, AdapterSize);

    /// <inheritdoc/>
    /// <remarks>The embeddings and every layer.</remarks>
    public IReadOnlyList<Parameter> UsedSharedParameters(BertEncoder shared)
    {
        ArgumentNullException.ThrowIfNull(shared);
        return SharedParameterSelection.EmbeddingsAndBottomLayers(shared, shared.Config.LayerCount);
    }

    /// <summary>Number of parameters of one branch: 2 · L · (2·H·a + a + H).</summary>
    /// <param name="config">The encoder shape.</param>
    /// <returns>The count.</returns>
    public long BranchParameterCount(BertConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        long h = config.HiddenSize;
        long a = AdapterSize;
        return 2L * config.LayerCount * (2 * h * a + a + h);
    }

    /// <summary>Checks a bottleneck width.</summary>
    /// <param name="adapterSize">a.</param>
    /// <exception cref="ArgumentException">It is not positive.</exception>
    internal static void CheckAdapterSize(int adapterSize)
    {
        if (adapterSize <= 0)
        {
            throw new ArgumentException(
                $"--sharing {StrategyName}: the adapter size must be positive, but was {adapterSize}; the default is {SharingOptions.DefaultAdapterSize}.",
                nameof(adapterSize));
        }
    }
}
