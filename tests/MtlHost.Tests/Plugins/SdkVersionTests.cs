using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using MtlHost.Abstractions;
using MtlHost.Plugins;
using MtlHost.Tests.Infrastructure;
using Shouldly;
using Xunit;

namespace MtlHost.Tests.Plugins;

/// <summary>
/// The host states which SDK versions it accepts and refuses a plugin built against another major
/// version. The plugins here are real DLLs: the same task source compiled with Roslyn once against
/// the host's SDK and once against the SDK's own sources compiled as another major version.
/// </summary>
public sealed class SdkVersionTests : IDisposable
{
    private const string TaskSource = """
        using MtlHost.Abstractions;

        namespace Fixture;

        public sealed class VersionedTask : SequenceClassificationTask
        {
            public override string Id => "TASK_ID";
            public override IReadOnlyList<string> Labels => ["no", "yes"];
        }
        """;

    private readonly TemporaryDirectory _plugins = new();

    public void Dispose() => _plugins.Dispose();

    [Fact]
    public void Plugins_list_states_the_accepted_SDK_versions()
    {
        _plugins.CopyPlugin(Path.Combine(RepositoryPaths.SamplePlugins, "Spam"));

        var text = HostRun.Of("plugins", "list", "--plugins", _plugins.Path, "--encoder", "tiny");
        var json = HostRun.Of("plugins", "list", "--plugins", _plugins.Path, "--encoder", "tiny", "--json");

        var host = SdkInfo.Version;
        text.ExitCode.ShouldBe(0, text.Error);
        text.Output.ShouldContain($"host SDK {host.Major}.{host.Minor}.{host.Build} accepts plugins built against SDK {host.Major}.x");
        json.Json.GetProperty("sdk").GetProperty("accepts").GetString().ShouldBe($"{host.Major}.x");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(-1)]
    public void A_plugin_built_against_another_major_SDK_version_is_refused_naming_both_versions(int majorOffset)
    {
        var host = SdkInfo.Version;
        var other = new Version(host.Major + majorOffset, 0, 0, 0);
        var otherSdk = CompileSdk(other);
        var hostSdk = MetadataReference.CreateFromFile(typeof(IMtlTask).Assembly.Location);
        WritePlugin("Current", "current", hostSdk);
        WritePlugin("Other", "other", MetadataReference.CreateFromImage(otherSdk));
        // The fixture is what it claims: the DLL's reference to the SDK carries the other version.
        ReferencedSdkVersion(_plugins.Combine("Other", "Other.dll")).ShouldBe(other);

        var run = HostRun.Of("plugins", "list", "--plugins", _plugins.Path, "--encoder", "tiny");

        run.ExitCode.ShouldBe(0, run.Error);
        run.Output.ShouldContain("Current: loaded");
        run.Output.ShouldContain(
            $"Other: refused — 'Other.dll' was built against SDK {other.Major}.0.0 but this host accepts SDK {host.Major}.x " +
            $"(host SDK {host.Major}.{host.Minor}.{host.Build}); rebuild the plugin against MtlHost.Abstractions {host.Major}.x.");
        SdkCompatibility.Check(_plugins.Combine("Current", "Current.dll")).ShouldBeNull();
    }

    private void WritePlugin(string name, string taskId, MetadataReference sdk)
    {
        var compilation = CSharpCompilation.Create(name,
            [Parse(TaskSource.Replace("TASK_ID", taskId)), Parse(ImplicitUsings)],
            [.. FrameworkAndTorchSharp(), sdk],
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        Directory.CreateDirectory(_plugins.Combine(name));
        File.WriteAllBytes(_plugins.Combine(name, name + ".dll"), Emit(compilation));
    }

    // The SDK's own sources, compiled under the SDK's assembly name with another version.
    private static byte[] CompileSdk(Version version)
    {
        var directory = Path.Combine(RepositoryPaths.Root, "src", "MtlHost.Abstractions");
        var sources = Directory.EnumerateFiles(directory, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") &&
                        !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"))
            .Select(f => Parse(File.ReadAllText(f)))
            .Append(Parse(ImplicitUsings))
            .Append(Parse($"[assembly: System.Reflection.AssemblyVersion(\"{version}\")]"));
        var compilation = CSharpCompilation.Create(SdkCompatibility.SdkAssemblyName, sources, FrameworkAndTorchSharp(),
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        return Emit(compilation);
    }

    private const string ImplicitUsings = """
        global using System;
        global using System.Collections.Generic;
        global using System.IO;
        global using System.Linq;
        global using System.Threading;
        global using System.Threading.Tasks;
        """;

    private static SyntaxTree Parse(string source) =>
        CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.Latest));

    // Everything this test process runs on (the framework and TorchSharp), but not the host's SDK.
    private static IEnumerable<MetadataReference> FrameworkAndTorchSharp() =>
        ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
        .Where(p => Path.GetFileNameWithoutExtension(p) != SdkCompatibility.SdkAssemblyName)
        .Select(p => MetadataReference.CreateFromFile(p));

    private static byte[] Emit(CSharpCompilation compilation)
    {
        using var image = new MemoryStream();
        var result = compilation.Emit(image);
        result.Success.ShouldBeTrue(string.Join(Environment.NewLine,
            result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
        return image.ToArray();
    }

    private static Version? ReferencedSdkVersion(string path)
    {
        using var pe = new PEReader(File.OpenRead(path));
        var reader = pe.GetMetadataReader();
        return reader.AssemblyReferences.Select(reader.GetAssemblyReference)
            .Where(r => reader.GetString(r.Name) == SdkCompatibility.SdkAssemblyName)
            .Select(r => r.Version).SingleOrDefault();
    }
}
