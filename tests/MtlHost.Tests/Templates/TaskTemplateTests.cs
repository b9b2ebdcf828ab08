using System.Text.RegularExpressions;
using System.Xml.Linq;
using MtlHost.Abstractions;
using MtlHost.Tests.Infrastructure;
using Shouldly;
using Xunit;

namespace MtlHost.Tests.Templates;

/// <summary>
/// The third-party path end to end, as a task author walks it: install the template package built by
/// this repository into an isolated dotnet new environment, generate a plugin, build and test it
/// against the SDK package built by this repository (a local NuGet source; everything else comes from
/// the usual feed), drop its output into a plugins folder and train it in the host.
/// </summary>
public sealed class TaskTemplateTests : IDisposable
{
    private static readonly TimeSpan Quick = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan Slow = TimeSpan.FromMinutes(8);

    private readonly TemporaryDirectory _work = new();

    public void Dispose() => _work.Dispose();

    [Fact]
    public void A_generated_plugin_builds_against_the_SDK_package_passes_its_tests_and_trains_in_the_host()
    {
        var sdkPackage = PackageFile("MtlHost.Abstractions", SdkInfo.Version.ToString(3));
        var templatePackage = NewestPackageFile("MtlHost.Templates");
        var hive = _work.Combine("dotnet-new-hive");

        var install = DotnetCli.Run(_work.Path, Quick, "new", "install", templatePackage, "--debug:custom-hive", hive);
        install.ExitCode.ShouldBe(0, install.Output);
        var create = DotnetCli.Run(_work.Path, Quick, "new", "mtltask", "-n", "Sentiment", "--no-update-check", "--debug:custom-hive", hive);
        create.ExitCode.ShouldBe(0, create.Output);

        var solution = _work.Combine("Sentiment");
        File.Exists(Path.Combine(solution, "Sentiment", "SentimentTask.cs")).ShouldBeTrue(create.Output);
        File.ReadAllText(Path.Combine(solution, "Sentiment", "SentimentTask.cs")).ShouldContain("Id => \"sentiment\"");
        UseLocalSdkPackage(solution, sdkPackage);

        // Builds the plugin and the generated test project and runs the generated tests.
        var test = DotnetCli.Run(solution, Slow, "test", "Sentiment.slnx");
        test.ExitCode.ShouldBe(0, test.Output);
        Regex.IsMatch(test.Output, @"Passed!\s+-\s+Failed:\s+0, Passed:\s+5").ShouldBeTrue(test.Output);

        // The build output is a plugin folder: the plugin and its data, nothing the host shares.
        var output = Path.Combine(solution, "Sentiment", "bin", "Debug", "net10.0");
        File.Exists(Path.Combine(output, "Sentiment.dll")).ShouldBeTrue();
        File.Exists(Path.Combine(output, "data", "sentiment", "train.jsonl")).ShouldBeTrue();
        var files = Directory.GetFiles(output, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(output, f)).ToList();
        files.ShouldNotContain(f => f.EndsWith("MtlHost.Abstractions.dll") || f.EndsWith("TorchSharp.dll") || f.EndsWith(".so") ||
                                    f.StartsWith("runtimes"), string.Join(", ", files));

        using var plugins = new TemporaryDirectory();
        plugins.CopyPlugin(output);
        Directory.Move(plugins.Combine("net10.0"), plugins.Combine("Sentiment"));
        var run = HostRun.Of("train", "--plugins", plugins.Path, "--encoder", "tiny", "--steps", "6", "--json", "--out", _work.Combine("run"));

        run.ExitCode.ShouldBe(0, run.Error);
        var task = run.Json.GetProperty("tasks").EnumerateArray().ShouldHaveSingleItem();
        task.GetProperty("id").GetString().ShouldBe("sentiment");
        task.GetProperty("plugin").GetString().ShouldBe("Sentiment");
        task.GetProperty("state").GetString().ShouldBe("Training");
        var validation = task.GetProperty("validation");
        validation.GetProperty("primary").GetString().ShouldBe("macro_f1");
        validation.GetProperty("score").GetDouble().ShouldBeInRange(0.0, 1.0);
    }

    [Fact]
    public void The_template_references_the_SDK_version_this_repository_builds()
    {
        var project = XDocument.Load(Path.Combine(RepositoryPaths.Root, "src", "MtlHost.Templates", "templates", "mtltask", "MyTask", "MyTask.csproj"));
        var reference = project.Descendants("PackageReference").Single(e => (string?)e.Attribute("Include") == "MtlHost.Abstractions");

        reference.Attribute("Version")!.Value.ShouldBe(SdkInfo.Version.ToString(3),
            "a new SDK version needs the template's MyTask.csproj (and the walkthrough) to reference it");
    }

    // A NuGet source holding only the SDK package just built, and a packages folder of its own, so
    // that an older MtlHost.Abstractions of the same version in the machine's NuGet cache is never used.
    private void UseLocalSdkPackage(string solution, string sdkPackage)
    {
        var feed = _work.Combine("feed");
        Directory.CreateDirectory(feed);
        File.Copy(sdkPackage, Path.Combine(feed, Path.GetFileName(sdkPackage)));
        // Kept between runs (under artifacts/) so that TorchSharp and xunit come from the feed once per clone.
        var packages = Path.Combine(RepositoryPaths.Root, "artifacts", "template-test", "packages");
        foreach (var stale in new[] { "mtlhost.abstractions" }.Select(p => Path.Combine(packages, p)).Where(Directory.Exists))
        {
            Directory.Delete(stale, recursive: true);
        }
        File.WriteAllText(Path.Combine(solution, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config>
                <add key="globalPackagesFolder" value="{packages}" />
              </config>
              <packageSources>
                <add key="mtlhost-local" value="{feed}" />
              </packageSources>
            </configuration>
            """);
    }

    // The template package's version is its own; the build leaves older ones in place.
    private static string NewestPackageFile(string id)
    {
        var packages = Path.Combine(RepositoryPaths.Root, "artifacts", "packages");
        var newest = Directory.Exists(packages)
            ? Directory.GetFiles(packages, $"{id}.*.nupkg").Where(f => char.IsDigit(Path.GetFileName(f)[id.Length + 1]))
                .OrderByDescending(File.GetLastWriteTimeUtc).FirstOrDefault()
            : null;
        newest.ShouldNotBeNull($"no {id} package in {packages}; the build packs it (dotnet build at the repository root).");
        return newest;
    }

    private static string PackageFile(string id, string version)
    {
        var path = Path.Combine(RepositoryPaths.Root, "artifacts", "packages", $"{id}.{version}.nupkg");
        File.Exists(path).ShouldBeTrue($"{path} is missing; the build packs it (dotnet build at the repository root).");
        return path;
    }
}
