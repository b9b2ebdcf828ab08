using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using MtlHost.Abstractions;
using MtlHost.Core.Checkpoints;
using MtlHost.Core.Inference;
using MtlHost.Core.Training;
using MtlHost.Inference;
using static MtlHost.Benchmarks.Rounds;

namespace MtlHost.Benchmarks;

/// <summary>
/// Multi-task inference: K tasks served by one encoder pass (<see cref="MultiTaskPredictor.Predict"/> with every task)
/// against K single-task models, one encoder pass per task, on the same texts and batches (the baseline asks the same
/// predictor for one task at a time, which is exactly a single-task model's work: tokenize, encode, one head).
/// Checkpoints are written from fresh (untrained) weights: speed does not depend on what the weights learned.
/// </summary>
public static class InferenceBenchmark
{
    /// <summary>Runs the benchmark for K = 2 and K = every sample task, and prints the figures.</summary>
    /// <param name="setup">Encoder and plugins.</param>
    /// <param name="batches">Timed batches per measurement and round.</param>
    /// <param name="batchSize">Texts per batch.</param>
    /// <param name="rounds">Rounds; they alternate multi-task and single-task so drift hits both alike.</param>
    public static void Run(BenchmarkSetup setup, int batches, int batchSize = 16, int rounds = 3)
    {
        var all = setup.Tasks.Select(t => t.Task.Descriptor).Where(d => d.Kind != TaskKind.PairClassification)
            .Select(d => d.Id).Order(StringComparer.Ordinal).ToArray();
        var texts = SampleTexts(setup, batchSize * batches);
        Console.WriteLine();
        Console.WriteLine($"multi-task inference, {setup.EncoderName} encoder, batch {batchSize}, {batches} batches x {rounds} rounds (median round), " +
                          $"{texts.Count} texts from the sample tasks' training data, max length 128; speed-up = single-task time / multi-task time per round:");
        foreach (var tasks in new[] { new[] { "spam", "wordclass" }, all }.DistinctBy(t => t.Length))
        {
            Measure(setup, tasks, texts, batchSize, rounds);
        }
    }

    private static void Measure(BenchmarkSetup setup, string[] taskIds, IReadOnlyList<string> texts, int batchSize, int rounds)
    {
        using var folder = new TemporaryFolder();
        var plugins = Path.Combine(folder.Path, "plugins");
        var checkpoint = WriteCheckpoint(setup, taskIds, folder.Path, plugins);
        using var predictor = MultiTaskPredictor.Load(checkpoint, plugins);
        var batches = texts.Chunk(batchSize).Select(c => c.Select(t => new PredictionInput(t)).ToList()).ToList();

        void Multi()
        {
            foreach (var batch in batches)
            {
                predictor.Predict(batch);
            }
        }

        void Single()
        {
            foreach (var batch in batches)
            {
                foreach (var task in taskIds)
                {
                    predictor.Predict(batch, task);
                }
            }
        }

        Multi();
        Single();
        var multi = new List<double>();
        var single = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            multi.Add(Time(Multi));
            single.Add(Time(Single));
        }
        var multiRate = texts.Count / Median(multi);
        var singleRate = texts.Count / Median(single);
        // The ratio of each round, measured back to back, is steadier than the ratio of medians on a shared machine.
        var ratios = multi.Zip(single, (m, s) => s / m).ToList();
        var k = taskIds.Length;
        Console.WriteLine($"  K = {k} ({string.Join(", ", taskIds)}):");
        Console.WriteLine($"    one encoder pass, {k} heads : {multiRate,8:F1} examples/s (every task's prediction)   rounds {string.Join(" ", multi.Select(t => (texts.Count / t).ToString("F1")))}");
        Console.WriteLine($"    {k} single-task passes      : {singleRate,8:F1} examples/s (every task's prediction)   rounds {string.Join(" ", single.Select(t => (texts.Count / t).ToString("F1")))}");
        Console.WriteLine($"    speed-up {Median(ratios):F2}x, median of rounds {string.Join(" ", ratios.Select(r => r.ToString("F2")))} (ideal {k}x, target >= {0.9 * k:F1}x)");
    }

    // The checkpoint names a snapshot of the plugins, so that a rebuild of artifacts/plugins while the benchmark
    // runs (a new commit changes every plugin's hash) cannot make the predictor refuse them.
    private static string WriteCheckpoint(BenchmarkSetup setup, string[] taskIds, string folder, string plugins)
    {
        var options = new TrainingOptions { Steps = 1, BatchSize = 16, LogEvery = 0, Seed = 42 };
        var runtimes = setup.CreateRuntimes(options, taskIds);
        try
        {
            using var encoder = setup.CreateEncoder(42);
            var path = Path.Combine(folder, "checkpoint");
            var manifest = CheckpointWriter.Write(path, new CheckpointContent(setup.EncoderName, encoder, runtimes, 0, options));
            foreach (var runtime in runtimes)
            {
                MtlHost.Plugins.PluginFolderCopy.Copy(runtime.Source.PluginDirectory, Path.Combine(plugins, runtime.Source.PluginName));
            }
            manifest = manifest with
            {
                Tasks = manifest.Tasks.Select(t => t with
                {
                    PluginSha256 = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(plugins, t.Plugin, t.PluginAssembly)))),
                }).ToList(),
            };
            File.WriteAllText(Path.Combine(path, "manifest.json"), JsonSerializer.Serialize(manifest, CheckpointWriter.JsonOptions));
            return path;
        }
        finally
        {
            foreach (var runtime in runtimes)
            {
                runtime.Dispose();
            }
        }
    }

    // Texts of every sample task in turn, so lengths mix as they would in a service's traffic.
    private static List<string> SampleTexts(BenchmarkSetup setup, int count)
    {
        var perTask = setup.Tasks.Select(t => t.Task.CreateDataset(new TaskContext(t.Source.PluginDirectory)).Read(DataSplit.Train)
            .Select(e => e.Text ?? string.Join(' ', e.Words ?? [])).Where(s => !string.IsNullOrWhiteSpace(s)).Take(count).ToList()).ToList();
        var texts = new List<string>(count);
        for (var i = 0; texts.Count < count; i++)
        {
            texts.Add(perTask[i % perTask.Count][i / perTask.Count % perTask[i % perTask.Count].Count]);
        }
        return texts;
    }

    private static double Time(Action action)
    {
        var clock = Stopwatch.StartNew();
        action();
        return clock.Elapsed.TotalSeconds;
    }

    private sealed class TemporaryFolder : IDisposable
    {
        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "mtlhost-bench-" + Guid.NewGuid().ToString("N")[..8]);

        public void Dispose()
        {
            try
            {
                Directory.Delete(Path, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
