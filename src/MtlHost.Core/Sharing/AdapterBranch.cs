using MtlHost.Core.Encoders;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MtlHost.Core.Sharing;

/// <summary>
/// The branch of adapter sharing: two bottleneck adapters per encoder layer, run inside the shared layers.
/// </summary>
/// <remarks>
/// State-dict names are <c>layer.{i}.attention.{down|up}.{weight|bias}</c> and <c>layer.{i}.output.*</c>.
/// Parameters: 2 · L · (2·H·a + a + H).
/// </remarks>
public sealed class AdapterBranch : EncoderBranch
{
    private readonly ModuleList<LayerAdapters> layer;

    /// <summary>
    /// Creates identity adapters for every layer of <paramref name="shared"/>.
    /// </summary>
    /// <param name="branchName">The task id or task-group name the branch serves.</param>
    /// <param name="shared">The shared encoder.</param>
    /// <param name="adapterSize">a, the bottleneck width.</param>
    public AdapterBranch(string branchName, BertEncoder shared, int adapterSize)
        : base(branchName, AdapterSharing.StrategyName, (shared ?? throw new ArgumentNullException(nameof(shared))).Config)
    {
        AdapterSharing.CheckAdapterSize(adapterSize);
        AdapterSize = adapterSize;
        layer = ModuleList(Enumerable.Range(0, shared.Config.LayerCount)
            .Select(_ => new LayerAdapters(shared.Config.HiddenSize, adapterSize)).ToArray());
        RegisterComponents();
        MatchEncoder(shared);
    }

    /// <summary>a, the bottleneck width.</summary>
    public int AdapterSize { get; }

    /// <summary>The adapters, one pair per encoder layer, bottom first.</summary>
    public IReadOnlyList<LayerAdapters> Layers => layer.AsReadOnly();

    /// <inheritdoc/>
    protected override EncoderBranchOutput EncodeChecked(BertEncoder shared, Tensor inputIds, Tensor tokenTypeIds, Tensor attentionMask)
    {
        using var scope = NewDisposeScope();
        var x = shared.Embed(inputIds, tokenTypeIds);
        var mask = BertEncoder.ExtendedAttentionMask(attentionMask, x.dtype);
        for (var i = 0; i < layer.Count; i++)
        {
            x = shared.Layers[i].forward(x, mask, layer[i].Attention, layer[i].Output);
        }

        var hidden = x.MoveToOuterDisposeScope();
        return new EncoderBranchOutput(hidden, hidden);
    }
}
