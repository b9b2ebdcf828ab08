using MtlHost.Core.Sharing;
using Shouldly;
using TorchSharp;
using Xunit;
using static MtlHost.Tests.Sharing.SharingTestData;
using static TorchSharp.torch;

namespace MtlHost.Tests.Sharing;

/// <summary>Adapters: identity at the start, trainable, one set per branch.</summary>
public sealed class AdapterSharingTests
{
    [Fact]
    public void A_fresh_adapter_branch_gives_the_plain_encoders_output()
    {
        using var scope = NewDisposeScope();
        using var shared = TinyEncoder(seed: 1);
        shared.eval();
        var (ids, types, mask) = Batch();
        using var branch = new AdapterSharing(8).CreateBranch("a", shared);

        var output = branch.Encode(shared, ids, types, mask);

        MaxAbsDifference(output.Hidden, shared.call(ids, types, mask)).ShouldBe(0f);
        ReferenceEquals(output.Hidden, output.Shared).ShouldBeTrue();
    }

    [Fact]
    public void Adapters_change_the_output_once_their_up_projection_is_not_zero()
    {
        using var scope = NewDisposeScope();
        using var shared = TinyEncoder(seed: 2);
        shared.eval();
        var (ids, types, mask) = Batch();
        using var branch = new AdapterSharing(8).CreateBranch("a", shared);
        using (no_grad())
        {
            foreach (var (name, p) in branch.named_parameters().Where(p => p.name.Contains(".up.")))
            {
                nn.init.normal_(p, 0, 0.1);
            }
        }

        MaxAbsDifference(branch.Encode(shared, ids, types, mask).Hidden, shared.call(ids, types, mask)).ShouldBeGreaterThan(1e-4f);
    }

    [Fact]
    public void Gradients_reach_the_adapters_even_with_the_encoder_frozen()
    {
        using var scope = NewDisposeScope();
        using var shared = TinyEncoder(seed: 3);
        shared.FreezeBottom(shared.Config.LayerCount);
        var (ids, types, mask) = Batch();
        using var branch = new AdapterSharing(8).CreateBranch("a", shared);

        branch.Encode(shared, ids, types, mask).Hidden.square().sum().backward();

        var named = branch.named_parameters().ToList();
        named.All(p => p.parameter.grad is not null).ShouldBeTrue();
        // The up-projections start at zero, so they are what the first gradient moves (down's gradient is up-weighted, 0).
        named.Where(p => p.name.Contains(".up.")).ShouldAllBe(p => p.parameter.grad!.abs().sum().item<float>() > 0f);
        shared.Layers.SelectMany(l => l.parameters()).All(p => p.grad is null).ShouldBeTrue();
    }

    [Fact]
    public void Two_branches_are_independent()
    {
        using var scope = NewDisposeScope();
        using var shared = TinyEncoder(seed: 4);
        shared.eval();
        var (ids, types, mask) = Batch();
        var strategy = new AdapterSharing(8);
        using var first = strategy.CreateBranch("a", shared);
        using var second = strategy.CreateBranch("b", shared);
        var secondBefore = Snapshot(second);

        using (no_grad())
        {
            // Random, not constant: a constant shift of every feature is what the following LayerNorm removes.
            foreach (var p in first.parameters())
            {
                nn.init.normal_(p, 0, 0.1);
            }
        }

        first.Encode(shared, ids, types, mask).Hidden.sum().backward();

        SameValues(Snapshot(second), secondBefore).ShouldBeTrue();
        second.parameters().All(p => p.grad is null).ShouldBeTrue();
        MaxAbsDifference(second.Encode(shared, ids, types, mask).Hidden, shared.call(ids, types, mask)).ShouldBe(0f);
        MaxAbsDifference(first.Encode(shared, ids, types, mask).Hidden, shared.call(ids, types, mask)).ShouldBeGreaterThan(1e-4f);
    }

    [Fact]
    public void A_branch_has_two_adapters_per_layer_of_two_H_a_plus_a_plus_H_parameters()
    {
        using var shared = TinyEncoder(seed: 5);
        const int h = 64;
        const int layers = 2;

        foreach (var a in new[] { 8, 64 })
        {
            var strategy = new AdapterSharing(a);
            using var branch = strategy.CreateBranch("a", shared);
            branch.ParameterCount.ShouldBe(2L * layers * ((2 * h * a) + a + h));
            strategy.BranchParameterCount(shared.Config).ShouldBe(branch.ParameterCount);
        }
    }

    [Fact]
    public void Adapter_state_names_say_layer_and_place()
    {
        using var shared = TinyEncoder(seed: 6);
        using var branch = new AdapterSharing(8).CreateBranch("a", shared);

        branch.state_dict().Keys.ShouldBe(
        [
            "layer.0.attention.down.weight", "layer.0.attention.down.bias", "layer.0.attention.up.weight", "layer.0.attention.up.bias",
            "layer.0.output.down.weight", "layer.0.output.down.bias", "layer.0.output.up.weight", "layer.0.output.up.bias",
            "layer.1.attention.down.weight", "layer.1.attention.down.bias", "layer.1.attention.up.weight", "layer.1.attention.up.bias",
            "layer.1.output.down.weight", "layer.1.output.down.bias", "layer.1.output.up.weight", "layer.1.output.up.bias",
        ], ignoreOrder: true);
    }

    [Fact]
    public void Adapters_use_every_encoder_layer_but_not_the_pooler()
    {
        using var shared = TinyEncoder(seed: 7);

        var used = new AdapterSharing().UsedSharedParameters(shared);

        var pooler = shared.named_parameters().Where(p => p.name.StartsWith("pooler.")).Select(p => p.parameter).ToList();
        pooler.ShouldNotBeEmpty();
        used.ShouldAllBe(p => !pooler.Any(q => ReferenceEquals(p, q)));
        used.Count.ShouldBe(shared.parameters().Count() - pooler.Count);
    }
}
