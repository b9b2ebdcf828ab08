using System.IO.Compression;
using System.Xml.Linq;
using MtlHost.Inference.Onnx;
using MtlHost.Tests.Infrastructure;
using Shouldly;
using Xunit;

namespace MtlHost.Tests.Inference;

/// <summary>
/// The ONNX Runtime predictor is a package of its own that carries no TorchSharp: its assemblies reference none, and the
/// packages the build packs depend on ONNX Runtime and the tokenizer only.
/// </summary>
public sealed class OnnxPackageTests
{
    [Fact]
    public void The_predictor_and_its_dependency_reference_no_TorchSharp()
    {
        var predictor = typeof(OnnxMultiTaskPredictor).Assembly;
        var predictions = typeof(MtlHost.Predictions.OutputDecoder).Assembly;

        foreach (var assembly in new[] { predictor, predictions })
        {
            assembly.GetReferencedAssemblies().Select(a => a.Name).ShouldNotContain(n => n!.StartsWith("TorchSharp", StringComparison.Ordinal) || n.StartsWith("MtlHost.Core", StringComparison.Ordinal)
                || n == "MtlHost.Abstractions", assembly.GetName().Name);
        }
        predictor.GetReferencedAssemblies().Select(a => a.Name).ShouldContain("Microsoft.ML.OnnxRuntime");
    }

    [Theory]
    [InlineData("MtlHost.Inference.Onnx", new[] { "Microsoft.ML.OnnxRuntime", "MtlHost.Predictions" })]
    [InlineData("MtlHost.Predictions", new[] { "Microsoft.ML.Tokenizers" })]
    public void The_built_package_depends_on_onnx_runtime_and_the_tokenizer_only(string package, string[] dependencies)
    {
        var path = Path.Combine(RepositoryPaths.Root, "artifacts", "packages", $"{package}.1.0.0.nupkg");
        File.Exists(path).ShouldBeTrue($"{path} is packed by the build (GeneratePackageOnBuild)");
        using var zip = ZipFile.OpenRead(path);
        using var nuspec = zip.GetEntry($"{package}.nuspec")!.Open();
        var ids = XDocument.Load(nuspec).Descendants().Where(e => e.Name.LocalName == "dependency").Select(e => e.Attribute("id")!.Value);

        ids.ShouldBe(dependencies, ignoreOrder: true);
        zip.Entries.Select(e => e.FullName).ShouldContain($"lib/net10.0/{package}.dll");
    }
}
