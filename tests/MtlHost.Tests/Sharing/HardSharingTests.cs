using MtlHost.Core.Sharing;
using Shouldly;
using Xunit;
using static MtlHost.Tests.Sharing.SharingTestData;
using static TorchSharp.torch;

namespace MtlHost.Tests.Sharing;

/// <summary>Hard sharing: the branch is the shared encoder, with nothing of its own.</summary>
public sealed class HardSharingTests
{
    [Fact]
    public void A_hard_branch_owns_nothing_and_returns_the_encoders_output_as_both_outputs()
    {
        using var scope = NewDisposeScope();
        using var shared = TinyEncoder(seed: 1);
        shared.eval();
        var (ids, types, mask) = Batch();
        using var branch = new HardSharing().CreateBranch("sentiment", shared);

        var output = branch.Encode(shared, ids, types, mask);

        MaxAbsDifference(output.Hidden, shared.call(ids, types, mask)).ShouldBe(0f);
        ReferenceEquals(output.Hidden, output.Shared).ShouldBeTrue();
        branch.ParameterCount.ShouldBe(0);
        branch.state_dict().ShouldBeEmpty();
        branch.BranchName.ShouldBe("sentiment");
        branch.StrategyName.ShouldBe("hard");
    }

    [Fact]
    public void Hard_sharing_uses_every_encoder_parameter_but_the_pooler()
    {
        using var shared = TinyEncoder(seed: 2);

        var used = new HardSharing().UsedSharedParameters(shared);

        var expected = shared.named_parameters().Where(p => !p.name.StartsWith("pooler.", StringComparison.Ordinal)).Select(p => p.parameter).ToList();
        used.Count.ShouldBe(expected.Count);
        used.Zip(expected).All(pair => ReferenceEquals(pair.First, pair.Second)).ShouldBeTrue();
    }

    [Fact]
    public void A_branch_refuses_an_encoder_of_another_shape()
    {
        using var scope = NewDisposeScope();
        using var shared = TinyEncoder(seed: 3);
        using var deeper = new MtlHost.Core.Encoders.BertEncoder(MtlHost.Core.Encoders.BertConfig.Tiny with { LayerCount = 3 });
        using var branch = new HardSharing().CreateBranch("a", shared);
        var (ids, types, mask) = Batch();

        Should.Throw<ArgumentException>(() => branch.Encode(deeper, ids, types, mask)).Message.ShouldContain("3 layers");
    }
}
