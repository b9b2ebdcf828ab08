using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using MtlHost.Abstractions;
using MtlHost.Plugins;
using MtlHost.Tests.Infrastructure;
using Shouldly;
using Xunit;

namespace MtlHost.Tests.Templates;

/// <summary>
/// The third-party path end to end, as a task author walks it, for every task kind the template offers:
/// install the template package built by this repository into an isolated dotnet new environment, generate
/// a plugin of each kind, build and test them against the SDK package built by this repository (a local
/// NuGet source; everything else comes from the usual feed), drop their output into a plugins folder, and
/// check and train them in the host.
/// </summary>
public sealed class TaskTemplateTests : IClassFixture<TaskTemplateTests.GeneratedPlugins>
{
    private static readonly string TemplateRoot = Path.Combine(RepositoryPaths.Root, "src", "MtlHost.Templates", "templates", "mtltask");

    private readonly GeneratedPlugins _generated;

    /// <summary>Receives the plugins generated, built and trained once for the whole class.</summary>
    /// <param name="generated">The generated plugins.</param>
    public TaskTemplateTests(GeneratedPlugins generated) => _generated = generated;

    /// <summary>What a plugin of each kind must turn out as.</summary>
    /// <param name="Kind">The <c>--kind</c> value.</param>
    /// <param name="Name">The <c>-n</c> name given to it here.</param>
    /// <param name="BaseClass">The SDK class its task derives from.</param>
    /// <param name="TaskKind">Its descriptor's kind.</param>
    /// <param name="Primary">The primary score its metric reports.</param>
    public sealed record TemplateKind(string Kind, string Name, string BaseClass, TaskKind TaskKind, string Primary)
    {
        /// <summary>The task id: the name in lower case.</summary>
        public string Id => Name.ToLowerInvariant();
    }

    /// <summary>The kinds; sequence first, since it is the default.</summary>
    public static IReadOnlyList<TemplateKind> Kinds { get; } =
    [
        new("sequence", "Sentiment", "SequenceClassificationTask", TaskKind.SequenceClassification, "macro_f1"),
        new("pair", "SameQuestion", "PairClassificationTask", TaskKind.PairClassification, "macro_f1"),
        new("multi-label", "Aspects", "MultiLabelClassificationTask", TaskKind.MultiLabelClassification, "micro_f1"),
        new("token", "Entities", "TokenClassificationTask", TaskKind.TokenClassification, "span_f1"),
        new("regression", "Stars", "RegressionTask", TaskKind.Regression, "pearson"),
    ];

    /// <summary>The <c>--kind</c> values, for the theory.</summary>
    public static TheoryData<string> KindNames => new(Kinds.Select(k => k.Kind).ToArray());

    [Theory]
    [MemberData(nameof(KindNames))]
    public void A_generated_plugin_of_each_kind_builds_against_the_SDK_package_passes_its_tests_and_trains_in_the_host(string kindName)
    {
        var kind = Kinds.Single(k => k.Kind == kindName);
        _generated.Install.ExitCode.ShouldBe(0, _generated.Install.Output);
        var create = _generated.Creates[kind.Kind];
        create.ExitCode.ShouldBe(0, create.Output);

        var taskFile = Path.Combine(_generated.Work.Path, kind.Name, kind.Name, $"{kind.Name}Task.cs");
        File.Exists(taskFile).ShouldBeTrue(create.Output);
        var source = File.ReadAllText(taskFile);
        source.ShouldContain($"class {kind.Name}Task : {kind.BaseClass}");
        source.ShouldContain($"Id => \"{kind.Id}\"");

        // One dotnet test built every plugin and its generated test project and ran the generated tests.
        _generated.Test.ExitCode.ShouldBe(0, _generated.Test.Output);
        Regex.IsMatch(_generated.Test.Output, $@"Passed!\s+-\s+Failed:\s+0, Passed:\s+5, Skipped:\s+0, Total:\s+5, .*- {kind.Name}\.Tests\.dll")
            .ShouldBeTrue(_generated.Test.Output);

        // The build output is a plugin folder: the plugin and its data, nothing the host shares.
        var output = _generated.OutputOf(kind);
        File.Exists(Path.Combine(output, $"{kind.Name}.dll")).ShouldBeTrue();
        File.Exists(Path.Combine(output, "data", kind.Id, "train.jsonl")).ShouldBeTrue();
        var files = Directory.GetFiles(output, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(output, f)).ToList();
        files.ShouldNotContain(f => f.EndsWith("MtlHost.Abstractions.dll") || f.EndsWith("TorchSharp.dll") || f.EndsWith(".so") ||
                                    f.StartsWith("runtimes"), string.Join(", ", files));

        // The host's loader takes it, and the task's data reads without a problem (plugins check).
        _generated.Check.ExitCode.ShouldBe(0, _generated.Check.Output + _generated.Check.Error);
        var plugin = _generated.Check.Json.GetProperty("plugins").EnumerateArray()
            .Single(p => p.GetProperty("name").GetString() == kind.Name);
        plugin.GetProperty("state").GetString().ShouldBe("loaded");
        var checkedTask = plugin.GetProperty("tasks").EnumerateArray().ShouldHaveSingleItem();
        checkedTask.GetProperty("id").GetString().ShouldBe(kind.Id);
        checkedTask.GetProperty("kind").GetString().ShouldBe(kind.TaskKind.ToString());
        checkedTask.GetProperty("train").GetInt32().ShouldBe(12);
        checkedTask.GetProperty("validation").GetInt32().ShouldBe(6);

        // It trains in the host, jointly with the other kinds, and is evaluated by its kind's metric.
        _generated.Train.ExitCode.ShouldBe(0, _generated.Train.Error);
        var task = _generated.Train.Json.GetProperty("tasks").EnumerateArray().Single(t => t.GetProperty("id").GetString() == kind.Id);
        task.GetProperty("plugin").GetString().ShouldBe(kind.Name);
        task.GetProperty("state").GetString().ShouldBe("Training");
        var validation = task.GetProperty("validation");
        validation.GetProperty("primary").GetString().ShouldBe(kind.Primary);
        validation.GetProperty("score").GetDouble().ShouldBeInRange(kind.Primary == "pearson" ? -1.0 : 0.0, 1.0);
    }

    [Fact]
    public void An_unknown_kind_is_refused_with_the_kinds_there_are()
    {
        var create = _generated.DotnetNew("Nope", "--kind", "nope");

        create.ExitCode.ShouldNotBe(0, create.Output);
        foreach (var kind in Kinds)
        {
            create.Output.ShouldContain(kind.Kind);
        }
        Directory.Exists(Path.Combine(_generated.Work.Path, "Nope")).ShouldBeFalse();
    }

    // Cheap, and says which file is missing before the slow test says that a build failed.
    [Fact]
    public void Every_kind_the_template_offers_has_its_task_data_and_test_and_a_source_that_picks_them()
    {
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(TemplateRoot, ".template.config", "template.json")));
        var choices = config.RootElement.GetProperty("symbols").GetProperty("kind").GetProperty("choices").EnumerateArray()
            .Select(c => c.GetProperty("choice").GetString()).ToList();
        var sources = config.RootElement.GetProperty("sources").EnumerateArray().ToList();

        choices.ShouldBe(Kinds.Select(k => k.Kind), ignoreOrder: true);
        config.RootElement.GetProperty("symbols").GetProperty("kind").GetProperty("defaultValue").GetString().ShouldBe("sequence");
        Directory.GetDirectories(Path.Combine(TemplateRoot, "kinds")).Select(Path.GetFileName).ShouldBe(choices, ignoreOrder: true);
        foreach (var kind in choices)
        {
            var folder = Path.Combine(TemplateRoot, "kinds", kind!);
            foreach (var file in new[] { "MyTask/MyTaskTask.cs", "MyTask.Tests/MyTaskTaskTests.cs", "MyTask/data/mytask/README.md",
                                         "MyTask/data/mytask/train.jsonl", "MyTask/data/mytask/validation.jsonl", "MyTask/data/mytask/test.jsonl" })
            {
                File.Exists(Path.Combine(folder, file)).ShouldBeTrue($"{kind}: {file}");
            }
            sources.Count(s => s.TryGetProperty("source", out var path) && path.GetString() == $"./kinds/{kind}/" &&
                               s.GetProperty("condition").GetString() == $"(kind == \"{kind}\")")
                .ShouldBe(1, $"template.json needs one source for kinds/{kind}/ under the condition (kind == \"{kind}\")");
        }
    }

    [Fact]
    public void The_template_references_the_SDK_version_this_repository_builds()
    {
        var project = XDocument.Load(Path.Combine(TemplateRoot, "MyTask", "MyTask.csproj"));
        var reference = project.Descendants("PackageReference").Single(e => (string?)e.Attribute("Include") == "MtlHost.Abstractions");

        reference.Attribute("Version")!.Value.ShouldBe(SdkInfo.Version.ToString(3),
            "a new SDK version needs the template's MyTask.csproj (and the walkthrough) to reference it");
    }

    /// <summary>
    /// One plugin of every kind, generated, built, tested, checked and trained once for the class: installing
    /// the template and restoring, building and testing the five projects together costs about what one did.
    /// Failures are kept, not thrown, so that each test reports the step that failed with its output.
    /// </summary>
    public sealed class GeneratedPlugins : IDisposable
    {
        private static readonly TimeSpan Quick = TimeSpan.FromMinutes(2);
        private static readonly TimeSpan Slow = TimeSpan.FromMinutes(12);

        private readonly string _hive;

        /// <summary>Installs the template, generates, builds, tests, checks and trains a plugin of each kind.</summary>
        public GeneratedPlugins()
        {
            var sdkPackage = PackageFile("MtlHost.Abstractions", SdkInfo.Version.ToString(3));
            var templatePackage = NewestPackageFile("MtlHost.Templates");
            _hive = Work.Combine("dotnet-new-hive");

            Install = DotnetCli.Run(Work.Path, Quick, "new", "install", templatePackage, "--debug:custom-hive", _hive);
            // The default kind is asked for by leaving --kind out.
            Creates = Kinds.ToDictionary(k => k.Kind, k => k.Kind == "sequence" ? DotnetNew(k.Name) : DotnetNew(k.Name, "--kind", k.Kind));
            UseLocalSdkPackage(sdkPackage);

            // One solution over all of them: one restore and one build.
            File.WriteAllText(Work.Combine("All.slnx"), "<Solution>\n" + string.Concat(Kinds.Select(k =>
                $"  <Project Path=\"{k.Name}/{k.Name}/{k.Name}.csproj\" />\n  <Project Path=\"{k.Name}/{k.Name}.Tests/{k.Name}.Tests.csproj\" />\n")) +
                "</Solution>\n");
            // One test assembly at a time (-m:1): run side by side, two assemblies' summary lines can interleave on the
            // console and no longer read as one line each, which the test below looks for.
            Test = DotnetCli.Run(Work.Path, Slow, "test", "All.slnx", "-m:1");

            var plugins = Work.Combine("plugins");
            Directory.CreateDirectory(plugins);
            foreach (var kind in Kinds.Where(k => Directory.Exists(OutputOf(k))))
            {
                PluginFolderCopy.Copy(OutputOf(kind), Path.Combine(plugins, kind.Name));
            }
            Check = HostRun.Of("plugins", "check", "--plugins", plugins, "--encoder", "tiny", "--json");
            // Enough steps that every one of the five tasks (sampled by training-set size, 12 each) gets some.
            Train = HostRun.Of("train", "--plugins", plugins, "--encoder", "tiny", "--steps", "20", "--json", "--out", Work.Combine("run"));
        }

        /// <summary>The folder everything is generated in, outside the repository (its Directory.Build.targets would apply).</summary>
        public TemporaryDirectory Work { get; } = new();

        /// <summary><c>dotnet new install</c> of the template package.</summary>
        public DotnetCli.Result Install { get; }

        /// <summary><c>dotnet new mtltask</c> per kind.</summary>
        public IReadOnlyDictionary<string, DotnetCli.Result> Creates { get; }

        /// <summary><c>dotnet test</c> of all generated projects.</summary>
        public DotnetCli.Result Test { get; }

        /// <summary><c>mtlhost plugins check --json</c> of the five plugin folders.</summary>
        public HostRun Check { get; }

        /// <summary><c>mtlhost train --json</c> of the five plugins together.</summary>
        public HostRun Train { get; }

        /// <summary>The build output of a kind's plugin: a plugin folder.</summary>
        /// <param name="kind">The kind.</param>
        /// <returns>The folder.</returns>
        public string OutputOf(TemplateKind kind) => Work.Combine(kind.Name, kind.Name, "bin", "Debug", "net10.0");

        /// <summary>Runs <c>dotnet new mtltask -n NAME</c> with the installed template.</summary>
        /// <param name="name">The plugin name.</param>
        /// <param name="options">More options.</param>
        /// <returns>What happened.</returns>
        public DotnetCli.Result DotnetNew(string name, params string[] options) =>
            DotnetCli.Run(Work.Path, Quick, ["new", "mtltask", "-n", name, .. options, "--no-update-check", "--debug:custom-hive", _hive]);

        /// <inheritdoc />
        public void Dispose() => Work.Dispose();

        // A NuGet source holding only the SDK package just built, and a packages folder of its own, so that an
        // older MtlHost.Abstractions of the same version in the machine's NuGet cache is never used. In the folder
        // above the generated solutions, so that NuGet finds it from each of them.
        private void UseLocalSdkPackage(string sdkPackage)
        {
            var feed = Work.Combine("feed");
            Directory.CreateDirectory(feed);
            File.Copy(sdkPackage, Path.Combine(feed, Path.GetFileName(sdkPackage)));
            // Kept between runs (under artifacts/) so that TorchSharp and xunit come from the feed once per clone.
            var packages = Path.Combine(RepositoryPaths.Root, "artifacts", "template-test", "packages");
            foreach (var stale in new[] { "mtlhost.abstractions" }.Select(p => Path.Combine(packages, p)).Where(Directory.Exists))
            {
                Directory.Delete(stale, recursive: true);
            }
            File.WriteAllText(Work.Combine("nuget.config"), $"""
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
}
