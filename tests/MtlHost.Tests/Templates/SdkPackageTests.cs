using System.IO.Compression;
using System.Xml.Linq;
using MtlHost.Abstractions;
using MtlHost.Tests.Infrastructure;
using Shouldly;
using Xunit;

namespace MtlHost.Tests.Templates;

/// <summary>What the SDK package that the build packs carries for a task author.</summary>
public sealed class SdkPackageTests
{
    [Fact]
    public void The_SDK_package_carries_the_assembly_its_docs_the_plugin_build_logic_and_a_compile_only_TorchSharp()
    {
        var path = Path.Combine(RepositoryPaths.Root, "artifacts", "packages", $"MtlHost.Abstractions.{SdkInfo.Version.ToString(3)}.nupkg");
        File.Exists(path).ShouldBeTrue($"{path} is missing; the build packs it.");
        using var package = ZipFile.OpenRead(path);

        var entries = package.Entries.Select(e => e.FullName).ToList();
        entries.ShouldContain("lib/net10.0/MtlHost.Abstractions.dll");
        entries.ShouldContain("lib/net10.0/MtlHost.Abstractions.xml");
        entries.ShouldContain("buildTransitive/MtlHost.Abstractions.targets");

        using var nuspec = package.GetEntry("MtlHost.Abstractions.nuspec")!.Open();
        var torchSharp = XDocument.Load(nuspec).Descendants().Single(e => e.Name.LocalName == "dependency");
        torchSharp.Attribute("id")!.Value.ShouldBe("TorchSharp");
        torchSharp.Attribute("version")!.Value.ShouldBe("0.107.0");
        var excluded = torchSharp.Attribute("exclude")!.Value.Split(',');
        excluded.ShouldContain("Runtime");
        excluded.ShouldContain("Native");
    }
}
