using System.Text.Json;
using System.Text.RegularExpressions;
using MtlHost.Tests.Infrastructure;
using Shouldly;
using Xunit;

namespace MtlHost.Tests.Plugins;

/// <summary>
/// A plugin with a third-party dependency of its own (tests/plugins/NumberWords: Humanizer.Core, which needs real
/// cultures), run by the built host as a separate process: the process's own runtime settings are what decides
/// whether cultures exist, and the tests' process does not have the host's.
/// </summary>
public sealed partial class PluginDependencyTests : IDisposable
{
    private readonly TemporaryDirectory _plugins = new();
    private readonly TemporaryDirectory _run = new();

    public void Dispose()
    {
        _plugins.Dispose();
        _run.Dispose();
    }

    [Fact]
    public void The_plugin_s_own_dependency_is_built_into_its_folder_and_what_the_host_shares_is_not()
    {
        var folder = Path.Combine(RepositoryPaths.TestPlugins, "NumberWords");

        File.Exists(Path.Combine(folder, "NumberWords.dll")).ShouldBeTrue();
        File.Exists(Path.Combine(folder, "Humanizer.dll")).ShouldBeTrue("the plugin's own package dependency must travel with it");
        File.Exists(Path.Combine(folder, "MtlHost.Abstractions.dll")).ShouldBeFalse();
        File.Exists(Path.Combine(folder, "TorchSharp.dll")).ShouldBeFalse();
    }

    [Fact]
    public void A_plugin_whose_dependency_uses_cultures_loads_and_trains_in_the_host()
    {
        _plugins.CopyPlugin(Path.Combine(RepositoryPaths.TestPlugins, "NumberWords"));

        using var host = HostProcess.Start("train", "--plugins", _plugins.Path, "--encoder", "tiny", "--steps", "4", "--batch-size", "4",
            "--out", _run.Path, "--json");
        var exitCode = host.WaitForExit();

        exitCode.ShouldBe(0, host.Error);
        var summary = JsonDocument.Parse(host.Output).RootElement;
        summary.GetProperty("refused").GetArrayLength().ShouldBe(0, host.Output);
        var task = summary.GetProperty("tasks").EnumerateArray().ShouldHaveSingleItem();
        task.GetProperty("id").GetString().ShouldBe("number-words");
        task.GetProperty("state").GetString().ShouldBe("Training");
        task.GetProperty("steps").GetInt32().ShouldBe(4);
    }

    [Fact]
    public void The_host_reads_and_writes_invariant_numbers_under_a_locale_with_a_decimal_comma()
    {
        _plugins.CopyPlugin(Path.Combine(RepositoryPaths.TestPlugins, "NumberWords"));
        var german = new Dictionary<string, string?>
        {
            ["LANG"] = "de_DE.UTF-8",
            ["LC_ALL"] = "de_DE.UTF-8",
            // A step log line with each task's loss every two steps.
            ["MTLHOST_Training__LogEvery"] = "2",
            ["MTLHOST_Training__HeadLearningRate"] = "0.002",
        };

        using var host = HostProcess.Start(german, "train", "--plugins", _plugins.Path, "--encoder", "tiny", "--steps", "4", "--batch-size", "4",
            "--lr", "0.001", "--warmup", "0.25", "--out", _run.Path);
        var exitCode = host.WaitForExit();

        exitCode.ShouldBe(0, host.Error);
        // The step log and the table: "number-words=0.693", "0.6931", never "0,693".
        StepLoss().IsMatch(host.Error).ShouldBeTrue(host.Error);
        DecimalComma().IsMatch(host.Error).ShouldBeFalse(host.Error);
        DecimalPoint().IsMatch(host.Output).ShouldBeTrue(host.Output);
        DecimalComma().IsMatch(host.Output).ShouldBeFalse(host.Output);
    }

    [GeneratedRegex(@"number-words=\d+\.\d{3}")]
    private static partial Regex StepLoss();

    [GeneratedRegex(@"\d\.\d{4}")]
    private static partial Regex DecimalPoint();

    [GeneratedRegex(@"\d,\d{3}")]
    private static partial Regex DecimalComma();
}
