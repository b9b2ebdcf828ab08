using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace MtlHost.Tests.Infrastructure;

/// <summary>
/// Compiles task plugins in the test with Roslyn, against the SDK and TorchSharp the host uses, into
/// real DLLs on disk: each call is a new version of a plugin, as a rebuild would produce.
/// </summary>
public static class PluginCompiler
{
    private static readonly Lazy<IReadOnlyList<MetadataReference>> References = new(() =>
        ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
        .Where(p => p.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) && File.Exists(p))
        .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToList());

    /// <summary>How a compiled version of the test task behaves.</summary>
    /// <param name="TaskId">Task id.</param>
    /// <param name="Version">Assembly (and task) version.</param>
    /// <param name="HiddenLayer">Whether the head has a hidden layer before its classifier (one layer more).</param>
    /// <param name="HeadThrows">Whether the head's forward throws (fails validation).</param>
    /// <param name="NanWhenTraining">Whether the loss is NaN whenever gradients flow (passes validation, fails in training).</param>
    /// <param name="DataDelayMilliseconds">How long the dataset adapter sleeps before yielding data.</param>
    /// <param name="ConstructorTypeInitializerThrows">
    /// Whether the task's constructor uses a class whose type initializer throws a <c>CultureNotFoundException</c>, as a
    /// dependency that needs a culture does without one: the constructor throws a <c>TypeInitializationException</c>.
    /// </param>
    /// <param name="DataThrowsWithCause">Whether the dataset adapter throws an exception with an inner exception (its cause).</param>
    /// <param name="TrainingThrowsWithCause">Whether the head's forward throws an exception with a cause when gradients flow (passes validation, fails in training).</param>
    /// <param name="TrainingMissesAFile">Whether the head's forward, when gradients flow, throws a <c>FileNotFoundException</c> naming a file in the folder the plugin was loaded from.</param>
    /// <param name="FileData">Whether the task reads the SDK's JSON-lines files from <c>data/&lt;id&gt;/</c> in its folder instead of generating its data.</param>
    /// <param name="TrainingFailsOnRank1">
    /// Whether the head's forward throws when gradients flow in MPI rank 1 only (Open MPI's <c>OMPI_COMM_WORLD_RANK</c>):
    /// a plugin that fails on one process of a data-parallel run and works on the others.
    /// </param>
    /// <param name="DataFailsOnRank1">Whether the dataset adapter throws in MPI rank 1 only.</param>
    public sealed record Variant(string TaskId, string Version = "1.0.0.0", bool HiddenLayer = false, bool HeadThrows = false,
        bool NanWhenTraining = false, int DataDelayMilliseconds = 0, bool ConstructorTypeInitializerThrows = false,
        bool DataThrowsWithCause = false, bool TrainingThrowsWithCause = false, bool TrainingMissesAFile = false, bool FileData = false,
        bool TrainingFailsOnRank1 = false, bool DataFailsOnRank1 = false);

    /// <summary>Compiles <paramref name="variant"/> into <c>&lt;pluginsDirectory&gt;/&lt;name&gt;/&lt;name&gt;.dll</c>.</summary>
    /// <param name="pluginsDirectory">The plugins folder.</param>
    /// <param name="name">Plugin (and assembly) name.</param>
    /// <param name="variant">The version to build.</param>
    /// <returns>The DLL's bytes, as written.</returns>
    public static byte[] Build(string pluginsDirectory, string name, Variant variant)
    {
        var bytes = Compile(name, variant);
        var folder = Path.Combine(pluginsDirectory, name);
        Directory.CreateDirectory(folder);
        File.WriteAllBytes(Path.Combine(folder, name + ".dll"), bytes);
        return bytes;
    }

    /// <summary>Compiles <paramref name="variant"/> to bytes.</summary>
    /// <param name="name">Plugin (and assembly) name.</param>
    /// <param name="variant">The version.</param>
    /// <returns>The DLL.</returns>
    public static byte[] Compile(string name, Variant variant)
    {
        var fields = variant.HiddenLayer ? "private readonly Linear hidden_layer; private readonly Linear classifier;" : "private readonly Linear classifier;";
        var init = variant.HiddenLayer
            ? "hidden_layer = nn.Linear(hidden, hidden); classifier = nn.Linear(hidden, 2);"
            : "classifier = nn.Linear(hidden, 2);";
        var forward = variant.HeadThrows
            ? $"throw new InvalidOperationException(\"head of {variant.TaskId} {variant.Version} is broken\");"
            : variant.TrainingMissesAFile
                ? "if (hiddenStates.requires_grad) throw new System.IO.FileNotFoundException(\"Could not find file '\" + System.IO.Path.Combine(Folder, \"lexicon.txt\") + \"'.\"); return classifier.forward(hiddenStates.select(1, 0));"
            : variant.TrainingFailsOnRank1
                ? "if (hiddenStates.requires_grad && OnRank1) throw new InvalidOperationException(\"the head failed on rank 1\"); return classifier.forward(hiddenStates.select(1, 0));"
            : variant.TrainingThrowsWithCause
                ? "if (hiddenStates.requires_grad) throw new InvalidOperationException(\"the head failed\", new ArithmeticException(\"overflow in layer 2\")); return classifier.forward(hiddenStates.select(1, 0));"
            : variant.HiddenLayer
                ? "return classifier.forward(nn.functional.tanh(hidden_layer.forward(hiddenStates.select(1, 0))));"
                : "return classifier.forward(hiddenStates.select(1, 0));";
        var loss = variant.NanWhenTraining
            ? "public override ITaskLoss CreateLoss() => new NanLoss(); private sealed class NanLoss : ITaskLoss { private readonly ITaskLoss _inner = new SingleLabelCrossEntropy(); public Tensor Compute(Tensor o, Tensor t) => o.requires_grad ? _inner.Compute(o, t) * float.NaN : _inner.Compute(o, t); }"
            : "";
        var delay = variant.DataDelayMilliseconds > 0 ? $"System.Threading.Thread.Sleep({variant.DataDelayMilliseconds});" : "";
        if (variant.DataThrowsWithCause)
        {
            delay += "throw new InvalidOperationException(\"the vocabulary could not be read\", new FormatException(\"line 7 is not a number\"));";
        }
        if (variant.DataFailsOnRank1)
        {
            delay += "if (OnRank1) throw new InvalidOperationException(\"the data is not on rank 1\");";
        }
        var constructor = variant.ConstructorTypeInitializerThrows
            ? "public ReloadTask() { _ = Settings.Culture; } private static class Settings { public static readonly string Culture = Find(); " +
              "private static string Find() => throw new System.Globalization.CultureNotFoundException(\"name\", \"xx-YY\", \"xx-YY is an invalid culture identifier.\"); }"
            : "";
        var dataset = variant.FileData ? "" : "public override ITaskDataset CreateDataset(TaskContext context) { Folder = context.PluginDirectory; return new Generated(); }";
        var source = $$"""
            using System;
            using System.Collections.Generic;
            using System.Linq;
            using System.Reflection;
            using MtlHost.Abstractions;
            using TorchSharp;
            using TorchSharp.Modules;
            using static TorchSharp.torch;

            [assembly: AssemblyVersion("{{variant.Version}}")]

            namespace Reload.{{name}};

            public sealed class ReloadTask : SequenceClassificationTask
            {
                public override string Id => "{{variant.TaskId}}";
                public override IReadOnlyList<string> Labels => new[] { "short", "long" };
                // The folder the plugin was loaded from, for messages that name a file of it.
                internal static string Folder = "";
                internal static bool OnRank1 => Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_RANK") == "1";
                {{constructor}}
                {{dataset}}
                public override TaskHead CreateHead(HeadOptions options) => new Head(options.HiddenSize);
                {{loss}}

                private sealed class Generated : ITaskDataset
                {
                    public IEnumerable<TaskExample> Read(DataSplit split)
                    {
                        {{delay}}
                        return Enumerable.Range(0, 64).Select(i => TaskExample.ForText(string.Join(' ', Enumerable.Repeat("word", 1 + i % 16)), i % 16 < 8 ? "short" : "long")).ToList();
                    }
                }

                private sealed class Head : TaskHead
                {
                    {{fields}}

                    public Head(int hidden) : base("ReloadHead")
                    {
                        {{init}}
                        RegisterComponents();
                    }

                    public override Tensor forward(Tensor hiddenStates, Tensor attentionMask)
                    {
                        {{forward}}
                    }
                }
            }
            """;
        var compilation = CSharpCompilation.Create(name, [CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.Latest))],
            References.Value, new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Disable));
        using var stream = new MemoryStream();
        var result = compilation.Emit(stream);
        if (!result.Success)
        {
            throw new InvalidOperationException("The test plugin does not compile:\n" +
                string.Join("\n", result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
        }
        return stream.ToArray();
    }
}
