using MtlHost.Abstractions;
using MtlHost.Abstractions.Messages;
using MtlHost.Plugins;
using MtlHost.Tests.Infrastructure;
using Shouldly;
using Xunit;

namespace MtlHost.Tests.Plugins;

public sealed class ShadowCopyPathsTests
{
    private const string Shadow = "/tmp/mtlhost-shadow/4242-0123456789abcde";

    [Fact]
    public void A_path_inside_a_copy_becomes_the_same_path_in_the_plugin_folder()
    {
        var paths = new ShadowCopyPaths();
        paths.Add($"{Shadow}/Spam.6", "/home/me/plugins/Spam");

        paths.ToOriginal($"data file '{Shadow}/Spam.6/data/spam/validation.jsonl' does not exist; nor does {Shadow}/Spam.6/x.txt")
            .ShouldBe("data file '/home/me/plugins/Spam/data/spam/validation.jsonl' does not exist; nor does /home/me/plugins/Spam/x.txt");
        paths.ToOriginal($"the copy {Shadow}/Spam.6.").ShouldBe("the copy /home/me/plugins/Spam.");
    }

    [Fact]
    public void A_copy_whose_name_starts_another_copy_s_name_maps_only_its_own_paths()
    {
        var paths = new ShadowCopyPaths();
        paths.Add($"{Shadow}/Spam.1", "/plugins/Spam");
        paths.Add($"{Shadow}/Spam.12", "/plugins/Spam-v2");
        paths.Add($"{Shadow}/Spam.1.2", "/plugins/Spam.1");

        paths.ToOriginal($"{Shadow}/Spam.12/a {Shadow}/Spam.1/b {Shadow}/Spam.1.2/c {Shadow}/Spam.1-old/d")
            .ShouldBe($"/plugins/Spam-v2/a /plugins/Spam/b /plugins/Spam.1/c {Shadow}/Spam.1-old/d");
    }

    [Fact]
    public void A_plugin_loaded_in_place_keeps_its_paths()
    {
        ShadowCopyPaths.ToOriginal("/plugins/Spam/data/a.jsonl", "/plugins/Spam", null).ShouldBe("/plugins/Spam/data/a.jsonl");
        ShadowCopyPaths.ToOriginal($"{Shadow}/Spam.2/data/a.jsonl", $"{Shadow}/Spam.2/", "/plugins/Spam/").ShouldBe("/plugins/Spam/data/a.jsonl");
    }

    [Fact]
    public void The_loader_refuses_a_shadow_copy_naming_the_plugin_folder()
    {
        var copy = new PluginCandidate("Ghost", $"{Shadow}/Ghost.3", $"{Shadow}/Ghost.3/Ghost.dll") { OriginalDirectory = "/plugins/Ghost" };

        var (loaded, refused) = new TaskPluginLoader(new HeadOptions(64, 0.1)).Load(copy);

        loaded.ShouldBeNull();
        refused.ShouldNotBeNull().Reason.ShouldStartWith("'/plugins/Ghost/Ghost.dll' does not exist");
    }

    [Fact]
    public void The_shadow_copier_says_which_folder_a_copy_came_from()
    {
        using var plugins = new TemporaryDirectory();
        using var shadowRoot = new TemporaryDirectory();
        PluginCompiler.Build(plugins.Path, "Alpha", new PluginCompiler.Variant("alpha"));
        using var copier = new PluginShadowCopier(shadowRoot.Path);

        var copy = copier.Copy(PluginDiscovery.Discover(plugins.Path).ShouldHaveSingleItem());

        copy.Directory.ShouldStartWith(copier.Root);
        copy.OriginalDirectory.ShouldBe(plugins.Combine("Alpha"));
    }
}
