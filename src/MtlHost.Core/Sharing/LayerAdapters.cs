using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MtlHost.Core.Sharing;

/// <summary>
/// The two adapters of one encoder layer, named after the sublayer outputs they follow.
/// </summary>
/// <remarks>
/// <c>attention.*</c> follows the attention output projection (Hugging Face's <c>attention.output.dense</c>),
/// <c>output.*</c> the feed-forward output projection (<c>output.dense</c>); each acts before its sublayer's
/// residual add and LayerNorm.
/// </remarks>
public sealed class LayerAdapters : Module
{
    private readonly BottleneckAdapter attention;
    private readonly BottleneckAdapter output;

    /// <summary>
    /// Creates two identity adapters.
    /// </summary>
    /// <param name="hiddenSize">H, the width of the hidden states.</param>
    /// <param name="bottleneckSize">a, the width of the bottleneck.</param>
    public LayerAdapters(int hiddenSize, int bottleneckSize) : base(nameof(LayerAdapters))
    {
        attention = new BottleneckAdapter(hiddenSize, bottleneckSize);
        output = new BottleneckAdapter(hiddenSize, bottleneckSize);
        RegisterComponents();
    }

    /// <summary>The adapter after the attention output projection.</summary>
    public BottleneckAdapter Attention => attention;

    /// <summary>The adapter after the feed-forward output projection.</summary>
    public BottleneckAdapter Output => output;
}
