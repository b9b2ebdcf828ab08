using MtlHost.Core.Encoders;
using Shouldly;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace MtlHost.Tests.Encoders;

/// <summary>The encoder's dropout: the same distribution and gradient as <c>nn.Dropout</c>, from torch's generator.</summary>
public sealed class UniformMaskDropoutTests
{
    [Fact]
    public void Training_keeps_one_minus_p_of_the_elements_scaled_by_its_inverse_and_the_gradient_follows_the_mask()
    {
        using var scope = NewDisposeScope();
        using var dropout = new UniformMaskDropout(0.1);
        dropout.train();
        manual_seed(11);
        var input = (rand(1000, 1000) + 1).requires_grad_();

        var output = dropout.call(input);
        output.sum().backward();

        var kept = output.ne(0);
        var share = kept.to_type(ScalarType.Float64).mean().item<double>();
        // 10^6 draws: the standard deviation of the share is 0.0003.
        share.ShouldBe(0.9, 0.0015);
        var scaled = output.masked_select(kept) / input.detach().masked_select(kept);
        scaled.min().item<float>().ShouldBe(1 / 0.9f, 1e-5f);
        scaled.max().item<float>().ShouldBe(1 / 0.9f, 1e-5f);
        // d(sum)/d(input) is the scaled mask itself.
        using var expected = kept.to_type(ScalarType.Float32) / 0.9f;
        input.grad!.allclose(expected, rtol: 1e-6, atol: 1e-7).ShouldBeTrue();
    }

    [Fact]
    public void The_same_seed_draws_the_same_mask_and_evaluation_or_p_0_pass_the_input_through()
    {
        using var scope = NewDisposeScope();
        using var dropout = new UniformMaskDropout(0.3);
        dropout.train();
        var input = ones(64, 64);
        manual_seed(5);
        var first = dropout.call(input);
        manual_seed(5);
        var second = dropout.call(input);
        var third = dropout.call(input);

        first.equal(second).all().item<bool>().ShouldBeTrue();
        first.equal(third).all().item<bool>().ShouldBeFalse();

        dropout.eval();
        dropout.call(input).equal(input).all().item<bool>().ShouldBeTrue();
        using var none = new UniformMaskDropout(0);
        none.train();
        none.call(input).equal(input).all().item<bool>().ShouldBeTrue();
        Should.Throw<ArgumentOutOfRangeException>(() => new UniformMaskDropout(1));
        Should.Throw<ArgumentOutOfRangeException>(() => new UniformMaskDropout(double.NaN));
    }
}
