using MtlHost.Core.Sharing;
using Shouldly;
using TorchSharp;
using Xunit;
using static MtlHost.Tests.Sharing.SharingTestData;
using static TorchSharp.torch;

namespace MtlHost.Tests.Sharing;

/// <summary>Task-specific top layers: copies that start equal to the encoder and then live apart from it.</summary>
/// <remarks>The tiny encoder has 2 layers; k = 1 shares layer 0 and copies layer 1.</remarks>
public sealed class TopLayerSharingTests
{
    [Fact]
    public void A_fresh_branch_gives_exactly_the_shared_encoders_output()
    {
        using var scope = NewDisposeScope();
        using var shared = TinyEncoder(seed: 1);
        shared.eval();
        var (ids, types, mask) = Batch();
        using var branch = new TopLayerSharing(1).CreateBranch("a", shared);

        var output = branch.Encode(shared, ids, types, mask);

        MaxAbsDifference(output.Hidden, shared.call(ids, types, mask)).ShouldBe(0f);
        var bottom = shared.RunLayers(shared.Embed(ids, types), Core.Encoders.BertEncoder.ExtendedAttentionMask(mask, ScalarType.Float32), 0, 1);
        MaxAbsDifference(output.Shared, bottom).ShouldBe(0f);
        MaxAbsDifference(output.Shared, output.Hidden).ShouldBeGreaterThan(0f);
        branch.training.ShouldBeFalse();
    }

    [Fact]
    public void With_k_zero_only_the_embeddings_are_shared_and_the_output_is_still_the_encoders()
    {
        using var scope = NewDisposeScope();
        using var shared = TinyEncoder(seed: 8);
        shared.eval();
        var (ids, types, mask) = Batch();
        using var branch = new TopLayerSharing(0).CreateBranch("a", shared);

        var output = branch.Encode(shared, ids, types, mask);

        MaxAbsDifference(output.Hidden, shared.call(ids, types, mask)).ShouldBe(0f);
        MaxAbsDifference(output.Shared, shared.Embed(ids, types)).ShouldBe(0f);
    }

    [Fact]
    public void A_branch_starts_in_the_encoders_training_mode()
    {
        using var shared = TinyEncoder(seed: 9);
        using var training = new TopLayerSharing(1).CreateBranch("a", shared);
        shared.eval();
        using var evaluating = new TopLayerSharing(1).CreateBranch("b", shared);

        training.training.ShouldBeTrue();
        ((TopLayerBranch)training).Layers[0].training.ShouldBeTrue();
        evaluating.training.ShouldBeFalse();
        ((TopLayerBranch)evaluating).Layers[0].training.ShouldBeFalse();
    }

    [Fact]
    public void The_branchs_copy_and_the_shared_encoder_do_not_alias()
    {
        using var scope = NewDisposeScope();
        using var shared = TinyEncoder(seed: 2);
        using var branch = new TopLayerSharing(1).CreateBranch("a", shared);
        var sharedBefore = Snapshot(shared);
        var branchBefore = Snapshot(branch);

        using (no_grad())
        {
            foreach (var p in branch.parameters())
            {
                p.add_(1.0);
            }
        }

        SameValues(Snapshot(shared), sharedBefore).ShouldBeTrue();

        using (no_grad())
        {
            foreach (var p in shared.parameters())
            {
                p.add_(1.0);
            }
        }

        var branchAfter = Snapshot(branch);
        SameValues(branchAfter, branchBefore.ToDictionary(e => e.Key, e => e.Value + 1.0)).ShouldBeTrue();
    }

    [Fact]
    public void Copied_layers_keep_the_encoders_layer_names()
    {
        using var shared = TinyEncoder(seed: 3);
        using var branch = new TopLayerSharing(1).CreateBranch("a", shared);

        var expected = shared.state_dict().Keys
            .Where(k => k.StartsWith("encoder.layer.1.", StringComparison.Ordinal))
            .Select(k => k["encoder.".Length..]);
        branch.state_dict().Keys.ShouldBe(expected, ignoreOrder: true);
    }

    [Fact]
    public void A_branch_owns_the_top_L_minus_k_layers()
    {
        using var shared = TinyEncoder(seed: 4);
        var perLayer = shared.Layers[0].parameters().Sum(p => p.numel());

        using var k1 = new TopLayerSharing(1).CreateBranch("a", shared);
        using var k0 = new TopLayerSharing(0).CreateBranch("b", shared);

        k1.ParameterCount.ShouldBe(perLayer);
        k0.ParameterCount.ShouldBe(2 * perLayer);
        ((TopLayerBranch)k0).Layers.Count.ShouldBe(2);
    }

    [Fact]
    public void Used_shared_parameters_are_the_embeddings_and_the_bottom_k_layers_and_only_they_get_gradients()
    {
        using var scope = NewDisposeScope();
        using var shared = TinyEncoder(seed: 5);
        var strategy = new TopLayerSharing(1);
        using var branch = strategy.CreateBranch("a", shared);
        var (ids, types, mask) = Batch();

        var used = strategy.UsedSharedParameters(shared);

        var names = shared.named_parameters().Where(p => used.Any(u => ReferenceEquals(u, p.parameter))).Select(p => p.name).ToList();
        names.ShouldAllBe(n => n.StartsWith("embeddings.") || n.StartsWith("encoder.layer.0."));
        names.Count.ShouldBe(shared.named_parameters().Count(p => p.name.StartsWith("embeddings.") || p.name.StartsWith("encoder.layer.0.")));

        branch.Encode(shared, ids, types, mask).Hidden.square().sum().backward();

        // Every used parameter but the padding row's embedding table gets a gradient; nothing unused does.
        used.All(p => p.grad is not null).ShouldBeTrue();
        var unused = shared.named_parameters().Where(p => !used.Any(u => ReferenceEquals(u, p.parameter))).ToList();
        unused.ShouldNotBeEmpty();
        unused.All(p => p.parameter.grad is null || p.parameter.grad.abs().sum().item<float>() == 0f).ShouldBeTrue();
        branch.parameters().All(p => p.grad is not null && p.grad.abs().sum().item<float>() > 0f).ShouldBeTrue();
    }

    [Fact]
    public void A_saved_branch_loads_into_a_new_branch_and_gives_the_same_output()
    {
        using var scope = NewDisposeScope();
        using var shared = TinyEncoder(seed: 6);
        shared.eval();
        var strategy = new TopLayerSharing(1);
        using var saved = strategy.CreateBranch("a", shared);
        using (no_grad())
        {
            foreach (var p in saved.parameters())
            {
                p.mul_(1.5);
            }
        }

        var path = Path.Combine(Path.GetTempPath(), $"branch-{Guid.NewGuid():N}.dat");
        try
        {
            saved.save(path);
            using var restored = strategy.CreateBranch("a", shared);
            restored.load(path);

            var (ids, types, mask) = Batch();
            MaxAbsDifference(restored.Encode(shared, ids, types, mask).Hidden, saved.Encode(shared, ids, types, mask).Hidden).ShouldBe(0f);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_k_beyond_the_encoder_is_refused_when_the_branch_is_made()
    {
        using var shared = TinyEncoder(seed: 7);

        var error = Should.Throw<ArgumentException>(() => new TopLayerSharing(2).CreateBranch("a", shared));

        error.Message.ShouldContain("--shared-layers 2");
        error.Message.ShouldContain("0 to 1");
        Should.Throw<ArgumentException>(() => new TopLayerSharing(5).UsedSharedParameters(shared));
    }
}
