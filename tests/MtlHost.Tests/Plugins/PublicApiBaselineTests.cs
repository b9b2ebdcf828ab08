using System.Text.RegularExpressions;
using MtlHost.Tests.Infrastructure;
using Shouldly;
using Xunit;

namespace MtlHost.Tests.Plugins;

/// <summary>
/// The SDK's public API baseline (src/MtlHost.Abstractions/PublicAPI.Shipped.txt and .Unshipped.txt) is
/// checked by the build: a change plugins would see fails it. The SDK project is copied, as it is, with
/// the repository's Directory.Build.targets, into the same layout in a temporary folder, changed there,
/// and built with the dotnet CLI as a developer would.
/// </summary>
public sealed partial class PublicApiBaselineTests : IDisposable
{
    private const string ProbeSource = """
        namespace MtlHost.Abstractions;

        /// <summary>A public type nobody declared in the API files.</summary>
        public static class ApiDriftProbe
        {
            /// <summary>A public member nobody declared in the API files.</summary>
            /// <returns>Zero.</returns>
            public static int Added() => 0;
        }
        """;

    // As if SdkInfo had shipped a Removed() method that was then deleted from the source: its line stays in Shipped.
    private const string RemovedMember = "static MtlHost.Abstractions.SdkInfo.Removed() -> int";

    private readonly TemporaryDirectory _work = new();

    public void Dispose() => _work.Dispose();

    [Fact]
    public void A_copy_of_the_SDK_with_an_undeclared_public_member_and_a_removed_shipped_one_fails_to_build_naming_both()
    {
        var project = CopySdkProject();
        File.WriteAllText(Path.Combine(project, "ApiDriftProbe.cs"), ProbeSource);
        File.AppendAllText(Path.Combine(project, "PublicAPI.Shipped.txt"), RemovedMember + Environment.NewLine);

        var build = DotnetCli.Run(_work.Path, TimeSpan.FromMinutes(3), "build", project, "-nologo", "-v:q");

        build.ExitCode.ShouldNotBe(0, build.Output);
        // Exactly these errors: the rest of the copy compiles and matches its baseline, so the files hold the SDK's
        // whole surface and nothing else.
        Errors(build.Output).ShouldBe(
            [
                "RS0016 MtlHost.Abstractions.ApiDriftProbe",
                "RS0016 static MtlHost.Abstractions.ApiDriftProbe.Added() -> int",
                $"RS0017 {RemovedMember}",
            ],
            ignoreOrder: true,
            customMessage: build.Output);
    }

    // src/MtlHost.Abstractions without its build output, under src/ of the work folder, beside a copy of the
    // repository's Directory.Build.targets (nullable context, warnings as errors under src/, packing).
    private string CopySdkProject()
    {
        var source = Path.Combine(RepositoryPaths.Root, "src", "MtlHost.Abstractions");
        var target = _work.Combine("src", "MtlHost.Abstractions");
        File.Copy(Path.Combine(RepositoryPaths.Root, "Directory.Build.targets"), _work.Combine("Directory.Build.targets"));
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(source, file);
            var top = relative.Split(Path.DirectorySeparatorChar)[0];
            if (top is "bin" or "obj")
            {
                continue;
            }
            var copy = Path.Combine(target, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
            File.Copy(file, copy);
        }
        return target;
    }

    // Each distinct error of the build (MSBuild repeats them in its summary) as "ID symbol" for the public API
    // rules' "Symbol '…' …" messages, else as "ID message".
    private static List<string> Errors(string output) =>
        [.. BuildError().Matches(output).Select(m =>
        {
            var symbol = ApiSymbol().Match(m.Groups["message"].Value);
            return $"{m.Groups["id"].Value} {(symbol.Success ? symbol.Groups["symbol"].Value : m.Groups["message"].Value)}";
        }).Distinct()];

    [GeneratedRegex(@"error (?<id>[A-Z]+\d+): (?<message>.*?)(?: \(https?://[^ ]*\))?(?: \[[^\]]*\])?\r?$", RegexOptions.Multiline)]
    private static partial Regex BuildError();

    [GeneratedRegex(@"^Symbol '(?<symbol>.+?)' is ")]
    private static partial Regex ApiSymbol();
}
