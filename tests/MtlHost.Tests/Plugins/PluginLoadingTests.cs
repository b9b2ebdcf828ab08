using System.Runtime.Loader;
using MtlHost.Abstractions;
using MtlHost.Plugins;
using MtlHost.Tests.Infrastructure;
using Shouldly;
using Xunit;

namespace MtlHost.Tests.Plugins;

public sealed class PluginLoadingTests : IDisposable
{
    private static readonly HeadOptions TinyHead = new(64, 0.1);
    private readonly TemporaryDirectory _plugins = new();

    public void Dispose() => _plugins.Dispose();

    [Fact]
    public void Sample_plugins_load_from_their_DLLs_into_collectible_contexts_that_share_the_SDK()
    {
        _plugins.CopyPlugin(Path.Combine(RepositoryPaths.SamplePlugins, "Spam"));
        _plugins.CopyPlugin(Path.Combine(RepositoryPaths.SamplePlugins, "WordClass"));

        var result = new TaskPluginLoader(TinyHead).LoadAll(_plugins.Path);
        try
        {
            result.Refused.ShouldBeEmpty();
            result.Loaded.Select(p => p.Name).ShouldBe(["Spam", "WordClass"]);
            var spam = result.Loaded[0].Tasks.ShouldHaveSingleItem();
            spam.Descriptor.Id.ShouldBe("spam");
            spam.Descriptor.Labels.ShouldBe(["ham", "spam"]);

            var context = AssemblyLoadContext.GetLoadContext(spam.GetType().Assembly)!;
            context.ShouldNotBe(AssemblyLoadContext.Default);
            context.IsCollectible.ShouldBeTrue();
            // One SDK: the plugin's IMtlTask is the host's IMtlTask.
            spam.ShouldBeAssignableTo<IMtlTask>();
            AssemblyLoadContext.Default.Assemblies.ShouldNotContain(a => a.GetName().Name == "Spam");
            result.Loaded[0].Sha256.Length.ShouldBe(64);
        }
        finally
        {
            foreach (var plugin in result.Loaded)
            {
                plugin.Dispose();
            }
        }
    }

    [Fact]
    public void A_file_that_is_not_a_NET_assembly_is_refused_and_the_others_load()
    {
        _plugins.CopyPlugin(Path.Combine(RepositoryPaths.SamplePlugins, "Spam"));
        File.WriteAllText(_plugins.Combine("notes.dll"), "this is not a DLL");

        var run = HostRun.Of("plugins", "list", "--plugins", _plugins.Path, "--encoder", "tiny");

        run.ExitCode.ShouldBe(0);
        run.Output.ShouldContain("Spam: loaded");
        run.Output.ShouldContain("notes: refused — 'notes.dll' is not a .NET assembly; remove it from the plugins folder");
    }

    [Fact]
    public void A_plugin_whose_constructor_throws_is_refused_with_the_exception_message()
    {
        var reason = RefusalOf("ThrowingConstructor");

        reason.ShouldContain("the constructor of MtlHost.TestPlugins.ThrowingConstructorTask threw InvalidOperationException");
        reason.ShouldContain("settings file 'broken.ini' is missing");
    }

    [Fact]
    public void A_head_that_returns_the_wrong_shape_is_refused_naming_both_shapes()
    {
        var reason = RefusalOf("WrongHeadShape");

        reason.ShouldContain("the head returned shape [2, 3]");
        reason.ShouldContain("must return [2, 2]");
    }

    [Fact]
    public void Two_plugins_with_the_same_task_id_load_once()
    {
        _plugins.CopyPlugin(Path.Combine(RepositoryPaths.SamplePlugins, "Spam"));
        Directory.CreateDirectory(_plugins.Combine("SpamAgain"));
        File.Copy(_plugins.Combine("Spam", "Spam.dll"), _plugins.Combine("SpamAgain", "SpamAgain.dll"));

        var result = new TaskPluginLoader(TinyHead).LoadAll(_plugins.Path);
        try
        {
            result.Loaded.ShouldHaveSingleItem().Name.ShouldBe("Spam");
            result.Refused.ShouldHaveSingleItem().Reason.ShouldContain("task id 'spam' is already provided by plugin 'Spam'");
        }
        finally
        {
            result.Loaded[0].Dispose();
        }
    }

    [Fact]
    public void A_missing_plugins_folder_exits_2_and_says_how_to_get_one()
    {
        var run = HostRun.Of("train", "--encoder", "tiny", "--plugins", _plugins.Combine("nowhere"));

        run.ExitCode.ShouldBe(2);
        run.Error.ShouldContain("does not exist");
        run.Error.ShouldContain("--plugins DIR");
    }

    [Fact]
    public void An_empty_plugins_folder_exits_2()
    {
        var run = HostRun.Of("train", "--encoder", "tiny", "--plugins", _plugins.Path);

        run.ExitCode.ShouldBe(2);
        run.Error.ShouldContain("holds no plugin");
    }

    [Fact]
    public void A_folder_of_only_broken_plugins_exits_2_with_every_reason()
    {
        _plugins.CopyPlugin(Path.Combine(RepositoryPaths.TestPlugins, "WrongHeadShape"));

        var run = HostRun.Of("train", "--encoder", "tiny", "--plugins", _plugins.Path);

        run.ExitCode.ShouldBe(2);
        run.Error.ShouldContain("No plugin in");
        run.Error.ShouldContain("WrongHeadShape: task 'wrong-head-shape': the head returned shape [2, 3]");
    }

    [Fact]
    public void Plugins_check_reads_every_task_s_data_and_exits_2_on_a_problem()
    {
        var spam = _plugins.CopyPlugin(Path.Combine(RepositoryPaths.SamplePlugins, "Spam"));
        _plugins.CopyPlugin(Path.Combine(RepositoryPaths.SamplePlugins, "WordClass"));

        var healthy = HostRun.Of("plugins", "check", "--plugins", _plugins.Path, "--encoder", "tiny");
        healthy.ExitCode.ShouldBe(0, healthy.Error);
        healthy.Output.ShouldContain("task spam 1.0.0.0 SequenceClassification [ham, spam], 4673 train / 625 validation examples");

        File.Delete(Path.Combine(spam, "data", "spam", "validation.jsonl"));
        var broken = HostRun.Of("plugins", "check", "--plugins", _plugins.Path, "--encoder", "tiny");

        broken.ExitCode.ShouldBe(2);
        broken.Output.ShouldContain("data problem: Task 'spam': data file");
        broken.Output.ShouldContain("validation.jsonl' does not exist");
        broken.Output.ShouldContain("task wordclass 1.0.0.0 SequenceClassification [noun, verb, adjective, adverb], 9620 train");
    }

    private string RefusalOf(string testPlugin)
    {
        _plugins.CopyPlugin(Path.Combine(RepositoryPaths.TestPlugins, testPlugin));
        _plugins.CopyPlugin(Path.Combine(RepositoryPaths.SamplePlugins, "Spam"));

        var result = new TaskPluginLoader(TinyHead).LoadAll(_plugins.Path);
        try
        {
            result.Loaded.ShouldHaveSingleItem().Name.ShouldBe("Spam");
            return result.Refused.ShouldHaveSingleItem().Reason;
        }
        finally
        {
            foreach (var plugin in result.Loaded)
            {
                plugin.Dispose();
            }
        }
    }
}
