using MtlHost.Core.Encoders;
using Shouldly;
using Xunit;

namespace MtlHost.Tests.Encoders;

public sealed class EncoderCatalogTests
{
    [Fact]
    public void An_attention_dropout_override_keeps_every_weight()
    {
        using var original = EncoderCatalog.Create(EncoderCatalog.Tiny, seed: 3);
        using var adjusted = EncoderCatalog.Create(EncoderCatalog.Tiny, seed: 3, attentionDropout: 0);

        adjusted.Config.AttentionDropout.ShouldBe(0);
        original.Config.AttentionDropout.ShouldBe(0.1);
        var weights = original.state_dict();
        foreach (var (name, tensor) in adjusted.state_dict())
        {
            tensor.Equals(weights[name]).ShouldBeTrue(name);
        }
    }
}
