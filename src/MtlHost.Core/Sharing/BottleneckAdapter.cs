using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MtlHost.Core.Sharing;

/// <summary>
/// A Houlsby et al. (2019) bottleneck adapter: x + up(GELU(down(x))).
/// </summary>
/// <remarks>
/// The up-projection starts at zero, so a new adapter is the identity and inserting it leaves the encoder's
/// output unchanged; the down-projection starts as BERT's weights do (N(0, 0.02)), so the up-projection gets a
/// gradient from the first step. Parameters: <c>down.weight</c> [a, H], <c>down.bias</c> [a],
/// <c>up.weight</c> [H, a], <c>up.bias</c> [H] — 2·H·a + a + H in all.
/// </remarks>
public sealed class BottleneckAdapter : Module<Tensor, Tensor>
{
    private const double InitializerRange = 0.02;

    private readonly Linear down;
    private readonly Linear up;

    /// <summary>
    /// Creates an identity adapter.
    /// </summary>
    /// <param name="hiddenSize">H, the width of the hidden states.</param>
    /// <param name="bottleneckSize">a, the width of the bottleneck.</param>
    public BottleneckAdapter(int hiddenSize, int bottleneckSize) : base(nameof(BottleneckAdapter))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(hiddenSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bottleneckSize);
        down = Linear(hiddenSize, bottleneckSize);
        up = Linear(bottleneckSize, hiddenSize);
        RegisterComponents();

        using var noGrad = no_grad();
        init.normal_(down.weight, 0, InitializerRange);
        init.zeros_(down.bias);
        init.zeros_(up.weight);
        init.zeros_(up.bias);
    }

    /// <summary>
    /// Adds the adapter's correction to the hidden states.
    /// </summary>
    /// <param name="hidden">[B, T, H].</param>
    /// <returns>[B, T, H].</returns>
    public override Tensor forward(Tensor hidden)
    {
        using var scope = NewDisposeScope();
        return (hidden + up.call(functional.gelu(down.call(hidden)))).MoveToOuterDisposeScope();
    }
}
