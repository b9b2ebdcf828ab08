using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using MtlHost.Tests.Infrastructure;
using Xunit;

namespace MtlHost.Tests.Inference;

/// <summary>
/// One real checkpoint for every inference test, trained once: a few tiny-encoder steps of all sample plugins (one of
/// each kind but pair classification) plus a compiled pair-classification plugin, from copies of the plugins so that a
/// rebuild of the samples cannot change their hashes under the tests.
/// </summary>
public sealed class InferenceCheckpoint : IDisposable
{
    private readonly TemporaryDirectory _root = new();

    public InferenceCheckpoint()
    {
        Plugins = _root.Combine("plugins");
        Directory.CreateDirectory(Plugins);
        foreach (var plugin in Directory.GetDirectories(RepositoryPaths.SamplePlugins))
        {
            MtlHost.Plugins.PluginFolderCopy.Copy(plugin, Path.Combine(Plugins, Path.GetFileName(plugin)));
        }
        BuildPairsPlugin(Plugins);
        Run = _root.Combine("run");
        var train = HostRun.Of("train", "--encoder", "tiny", "--steps", "4", "--batch-size", "8", "--max-length", "64",
            "--plugins", Plugins, "--out", Run, "--json");
        if (train.ExitCode != 0)
        {
            throw new InvalidOperationException($"Training the inference checkpoint failed ({train.ExitCode}): {train.Error}");
        }
    }

    /// <summary>The plugins the checkpoint was trained with.</summary>
    public string Plugins { get; }

    /// <summary>The run folder.</summary>
    public string Run { get; }

    /// <summary>The checkpoint folder.</summary>
    public string Checkpoint => Path.Combine(Run, "checkpoint");

    /// <summary>Every task of the checkpoint, in id order.</summary>
    public static IReadOnlyList<string> TaskIds { get; } =
        ["pairs", "pos-tagging", "sensedomains", "spam", "supersense", "syllables", "wordclass"];

    /// <summary>A fresh folder for one test.</summary>
    /// <returns>The folder; the fixture deletes it.</returns>
    public string NewFolder()
    {
        var folder = _root.Combine(Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        return folder;
    }

    /// <summary>Copies the checkpoint so a test can change its manifest.</summary>
    /// <param name="edit">Changes the manifest's text.</param>
    /// <returns>The copy.</returns>
    public string CopyCheckpoint(Func<string, string> edit)
    {
        var copy = Path.Combine(NewFolder(), "checkpoint");
        MtlHost.Plugins.PluginFolderCopy.Copy(Checkpoint, copy);
        var manifest = Path.Combine(copy, "manifest.json");
        File.WriteAllText(manifest, edit(File.ReadAllText(manifest)));
        return copy;
    }

    /// <summary>Copies the plugins folder, leaving some plugins out.</summary>
    /// <param name="without">Plugin folder names to leave out.</param>
    /// <returns>The copy.</returns>
    public string CopyPlugins(params string[] without)
    {
        var copy = Path.Combine(NewFolder(), "plugins");
        foreach (var plugin in Directory.GetDirectories(Plugins).Where(p => !without.Contains(Path.GetFileName(p))))
        {
            MtlHost.Plugins.PluginFolderCopy.Copy(plugin, Path.Combine(copy, Path.GetFileName(plugin)));
        }
        return copy;
    }

    public void Dispose() => _root.Dispose();

    // No sample plugin is of the pair kind: a small one, compiled here, with generated data.
    private static void BuildPairsPlugin(string pluginsDirectory)
    {
        const string Source = """
            using System.Collections.Generic;
            using System.Linq;
            using MtlHost.Abstractions;

            namespace InferencePairs;

            public sealed class PairsTask : PairClassificationTask
            {
                public override string Id => "pairs";
                public override IReadOnlyList<string> Labels => new[] { "different", "same" };
                public override ITaskDataset CreateDataset(TaskContext context) => new Generated();

                private sealed class Generated : ITaskDataset
                {
                    private static readonly string[] Animals = { "cat", "dog", "horse", "cow" };

                    public IEnumerable<TaskExample> Read(DataSplit split) => Enumerable.Range(0, 32).Select(i =>
                    {
                        var a = Animals[i % 4];
                        var b = i % 2 == 0 ? a : Animals[(i + 1) % 4];
                        return TaskExample.ForPair("the " + a + " sleeps", "a " + b + " runs", a == b ? "same" : "different");
                    }).ToList();
                }
            }
            """;
        var references = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => p.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) && File.Exists(p))
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p));
        var compilation = CSharpCompilation.Create("Pairs", [CSharpSyntaxTree.ParseText(Source)], references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        var folder = Path.Combine(pluginsDirectory, "Pairs");
        Directory.CreateDirectory(folder);
        using var stream = File.Create(Path.Combine(folder, "Pairs.dll"));
        var result = compilation.Emit(stream);
        if (!result.Success)
        {
            throw new InvalidOperationException("The pair test plugin does not compile:\n" +
                                                string.Join("\n", result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
        }
    }
}

/// <summary>The inference tests share one trained checkpoint.</summary>
[CollectionDefinition(Name)]
public sealed class InferenceCollection : ICollectionFixture<InferenceCheckpoint>
{
    /// <summary>The collection's name.</summary>
    public const string Name = "Inference checkpoint";
}
