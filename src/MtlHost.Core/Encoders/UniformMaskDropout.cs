using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MtlHost.Core.Encoders;

/// <summary>
/// Inverted dropout, as <c>nn.Dropout</c>: while training, each element is kept with probability 1 − p and scaled by
/// 1/(1 − p), or zeroed; in evaluation the input passes unchanged. Its keep-mask comes from one uniform float per element
/// (<c>rand</c>: one 32-bit draw of the generator) compared with p.
/// </summary>
/// <remarks>
/// Why not <c>nn.Dropout</c>: on the CPU, libtorch's dropout draws its mask with <c>bernoulli_</c>, which takes a uniform
/// double per element, two 32-bit Mersenne Twister draws, in a serial loop (its vectorised MKL path serves Intel CPUs
/// only). At MiniLM's 2048 × 384 activations that made one dropout, forward and backward, about 5 ms here, against about
/// 3 ms for this one (the encoder benchmark's breakdown); a BERT encoder has 2 × layers + 1 of them a step (MiniLM-L6: 13). The distribution is the same: an
/// element is kept when u ≥ p for u uniform in [0, 1). The random stream is torch's generator, so
/// <c>manual_seed</c> reproduces the masks.
/// </remarks>
public sealed class UniformMaskDropout : Module<Tensor, Tensor>
{
    private readonly double _probability;

    /// <summary>Creates the module.</summary>
    /// <param name="probability">The probability p of zeroing an element: at least 0, below 1.</param>
    /// <exception cref="ArgumentOutOfRangeException">p is outside [0, 1).</exception>
    public UniformMaskDropout(double probability) : base(nameof(UniformMaskDropout))
    {
        if (!(probability >= 0 && probability < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(probability), probability, "A dropout probability is at least 0 and below 1.");
        }
        _probability = probability;
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        if (!training || _probability == 0)
        {
            // A new handle on the same tensor, as nn.Dropout returns in evaluation: the caller may dispose it.
            return input.alias();
        }
        using var scope = NewDisposeScope();
        var keep = rand_like(input).ge_(_probability).mul_(1 / (1 - _probability));
        return input.mul(keep).MoveToOuterDisposeScope();
    }
}
