using Microsoft.Extensions.Logging.Abstractions;
using MtlHost.Abstractions;
using MtlHost.Core.Encoders;
using MtlHost.Core.Tokenization;
using MtlHost.Core.Training;
using MtlHost.Plugins;
using static TorchSharp.torch;

namespace MtlHost.Benchmarks;

/// <summary>The sample plugins loaded from their DLLs, their tasks prepared, and the shared tokenizer.</summary>
public sealed class BenchmarkSetup : IDisposable
{
    private readonly PluginLoadResult _plugins;

    private BenchmarkSetup(PluginLoadResult plugins, BertWordPieceTokenizer tokenizer, BertConfig config, string encoderName)
    {
        _plugins = plugins;
        PluginsDirectory = plugins.Directory;
        Tokenizer = tokenizer;
        Config = config;
        EncoderName = encoderName;
    }

    /// <summary>The shared tokenizer.</summary>
    public BertWordPieceTokenizer Tokenizer { get; }

    /// <summary>Shape of the encoder.</summary>
    public BertConfig Config { get; }

    /// <summary>The sample plugins folder (artifacts/plugins).</summary>
    public string PluginsDirectory { get; }

    /// <summary>Encoder name.</summary>
    public string EncoderName { get; }

    /// <summary>Loads the sample plugins built into artifacts/plugins.</summary>
    /// <param name="encoderName">Encoder whose width the heads get.</param>
    /// <returns>The setup.</returns>
    public static BenchmarkSetup Load(string encoderName)
    {
        var config = EncoderCatalog.ConfigOf(encoderName);
        var loader = new TaskPluginLoader(new HeadOptions(config.HiddenSize, config.HiddenDropout));
        var plugins = loader.LoadAll(FindPlugins());
        if (plugins.Loaded.Count < 2)
        {
            throw new InvalidOperationException("The benchmark needs the two sample plugins; build the solution first.");
        }
        return new BenchmarkSetup(plugins, BertWordPieceTokenizer.FromVocabulary(MiniLmPackage.OpenVocabulary()), config, encoderName);
    }

    /// <summary>Creates fresh task runtimes (fresh heads) with the given options.</summary>
    /// <param name="options">Run options.</param>
    /// <param name="taskIds">Tasks to prepare; none means every sample task.</param>
    /// <returns>The runtimes, in task-id order.</returns>
    public List<TaskRuntime> CreateRuntimes(TrainingOptions options, params string[] taskIds)
    {
        var factory = new TaskRuntimeFactory(Tokenizer, new HeadOptions(Config.HiddenSize, Config.HiddenDropout), CPU, options, NullLogger.Instance);
        return _plugins.Loaded.SelectMany(p => p.Tasks.Where(t => taskIds.Length == 0 || taskIds.Contains(t.Descriptor.Id)).Select(t => factory.Create(t,
                new TaskSource(p.Name, p.Candidate.Directory, Path.GetFileName(p.Candidate.AssemblyPath), p.Sha256))))
            .OrderBy(r => r.Id, StringComparer.Ordinal).ToList();
    }

    /// <summary>Training texts of the spam task that fill at least <paramref name="tokens"/> tokens.</summary>
    /// <param name="count">How many.</param>
    /// <param name="tokens">Minimum length in tokens.</param>
    /// <returns>The texts.</returns>
    public IReadOnlyList<string> LongTexts(int count, int tokens)
    {
        var spam = _plugins.Loaded.SelectMany(p => p.Tasks.Select(t => (Plugin: p, Task: t))).First(x => x.Task.Descriptor.Id == "spam");
        return spam.Task.CreateDataset(new TaskContext(spam.Plugin.Candidate.Directory)).Read(DataSplit.Train)
            .Select(e => e.Text!).Where(t => Tokenizer.Encode(t, 512).InputIds.Length >= tokens).Take(count).ToList();
    }

    /// <summary>Every sample task with the folder of its plugin, as loaded.</summary>
    public IEnumerable<(IMtlTask Task, TaskSource Source)> Tasks =>
        _plugins.Loaded.SelectMany(p => p.Tasks.Select(t =>
            (t, new TaskSource(p.Name, p.Candidate.Directory, Path.GetFileName(p.Candidate.AssemblyPath), p.Sha256))));

    /// <summary>Builds a fresh encoder with a fixed seed.</summary>
    /// <param name="seed">Seed.</param>
    /// <returns>The encoder.</returns>
    public BertEncoder CreateEncoder(int seed) => EncoderCatalog.Create(EncoderName, seed);

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var plugin in _plugins.Loaded)
        {
            plugin.Dispose();
        }
    }

    /// <summary>The repository's root folder (the one with MtlHost.sln), found upwards from the benchmark's folder.</summary>
    /// <returns>Its path.</returns>
    /// <exception cref="InvalidOperationException">Not found.</exception>
    public static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "MtlHost.sln")))
            {
                return directory.FullName;
            }
        }
        throw new InvalidOperationException("MtlHost.sln not found above the benchmark's folder.");
    }

    private static string FindPlugins()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "artifacts", "plugins");
            if (File.Exists(Path.Combine(directory.FullName, "MtlHost.sln")) && Directory.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new InvalidOperationException("artifacts/plugins not found; build the solution first.");
    }
}
