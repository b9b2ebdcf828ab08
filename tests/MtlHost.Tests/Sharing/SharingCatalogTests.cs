using MtlHost.Core.Encoders;
using MtlHost.Core.Sharing;
using Shouldly;
using Xunit;

namespace MtlHost.Tests.Sharing;

/// <summary>Strategies by name, and the defaults and ranges of their options.</summary>
public sealed class SharingCatalogTests
{
    [Fact]
    public void The_catalog_knows_three_strategies_by_case_insensitive_name()
    {
        SharingCatalog.Names.ShouldBe(["hard", "top-layers", "adapters"]);
        SharingCatalog.DefaultName.ShouldBe("hard");

        SharingCatalog.Create("HARD", SharingOptions.Default).ShouldBeOfType<HardSharing>();
        var top = SharingCatalog.Create("Top-Layers", new SharingOptions(SharedLayers: 3)).ShouldBeOfType<TopLayerSharing>();
        top.SharedLayers.ShouldBe(3);
        var adapters = SharingCatalog.Create("adapters", new SharingOptions(AdapterSize: 16)).ShouldBeOfType<AdapterSharing>();
        adapters.AdapterSize.ShouldBe(16);

        foreach (var name in SharingCatalog.Names)
        {
            SharingCatalog.Create(name, SharingOptions.Default).Name.ShouldBe(name);
        }
    }

    [Fact]
    public void An_unknown_name_is_refused_with_the_known_names()
    {
        var error = Should.Throw<ArgumentException>(() => SharingCatalog.Create("soft", SharingOptions.Default));

        error.Message.ShouldContain("soft");
        error.Message.ShouldContain("hard, top-layers, adapters");
    }

    [Fact]
    public void Options_out_of_range_are_refused_with_the_valid_range()
    {
        Should.Throw<ArgumentException>(() => SharingCatalog.Create("top-layers", new SharingOptions(SharedLayers: -1)))
            .Message.ShouldContain("0 or more");
        Should.Throw<ArgumentException>(() => SharingCatalog.Create("adapters", new SharingOptions(AdapterSize: 0)))
            .Message.ShouldContain("must be positive");

        // k is checked against the encoder's depth: all of L shared is hard sharing, not a top-layers split.
        var tooDeep = SharingCatalog.Create("top-layers", new SharingOptions(SharedLayers: 6));
        var error = Should.Throw<ArgumentException>(() => tooDeep.Validate(BertConfig.MiniLmL6));
        error.Message.ShouldContain("0 to 5");
        error.Message.ShouldContain("--sharing hard");
        Should.NotThrow(() => SharingCatalog.Create("top-layers", new SharingOptions(SharedLayers: 5)).Validate(BertConfig.MiniLmL6));
    }

    [Fact]
    public void The_default_k_shares_the_bottom_two_thirds()
    {
        TopLayerSharing.DefaultSharedLayers(BertConfig.MiniLmL6).ShouldBe(4);
        TopLayerSharing.DefaultSharedLayers(BertConfig.Tiny).ShouldBe(1);
        TopLayerSharing.DefaultSharedLayers(BertConfig.Tiny with { LayerCount = 12 }).ShouldBe(8);
        TopLayerSharing.DefaultSharedLayers(BertConfig.Tiny with { LayerCount = 1 }).ShouldBe(0);
        new TopLayerSharing().SharedLayersFor(BertConfig.MiniLmL6).ShouldBe(4);
    }

    [Fact]
    public void Branch_sizes_for_MiniLM_L6_match_the_hand_count()
    {
        using var shared = new BertEncoder(BertConfig.MiniLmL6);
        using var top = SharingCatalog.Create("top-layers", SharingOptions.Default).CreateBranch("t", shared);
        using var adapters = SharingCatalog.Create("adapters", SharingOptions.Default).CreateBranch("a", shared);

        // One layer: 4 attention projections (384² + 384 each) + FFN in (384·1536 + 1536) and out (1536·384 + 384)
        // + 2 LayerNorms (2·384 each) = 1,774,464; the default k = 4 leaves 2 layers per branch.
        top.ParameterCount.ShouldBe(2 * 1_774_464L);
        // 2 adapters per layer × 6 layers × (2·384·64 + 64 + 384).
        adapters.ParameterCount.ShouldBe(595_200L);
        new AdapterSharing().BranchParameterCount(BertConfig.MiniLmL6).ShouldBe(595_200L);
    }
}
