using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using MtlHost.Core.Inference;
using MtlHost.Inference;
using MtlHost.Inference.Onnx;

namespace MtlHost.Benchmarks;

/// <summary>
/// One timed round of one predictor in a process of its own (<c>onnx-round</c>, started by <see cref="OnnxBenchmark"/>), so
/// that its resident memory is its own: an ONNX Runtime round never loads libtorch. Loads, warms up, predicts every text
/// alone (batch 1) and in batches of 16, and prints one JSON line.
/// </summary>
public static class OnnxRound
{
    /// <summary>Runs the round.</summary>
    /// <param name="backend"><c>torch</c> (the checkpoint with <see cref="MultiTaskPredictor"/>), <c>fp32</c> or <c>int8</c> (an ONNX export).</param>
    /// <param name="model">The checkpoint or export folder.</param>
    /// <param name="plugins">The plugins folder (torch only).</param>
    /// <param name="threads">Torch threads or ONNX Runtime intra-op threads.</param>
    /// <param name="textsFile">The texts, one JSON string a line.</param>
    /// <returns>0.</returns>
    public static int Run(string backend, string model, string plugins, int threads, string textsFile)
    {
        var texts = File.ReadLines(textsFile).Select(l => JsonSerializer.Deserialize<string>(l)!).ToList();
        var load = Stopwatch.StartNew();
        Func<IReadOnlyList<PredictionInput>, int> predict;
        IDisposable predictor;
        if (backend == "torch")
        {
            (predictor, predict) = LoadTorch(model, plugins, threads);
        }
        else
        {
            var onnx = OnnxMultiTaskPredictor.Load(model, new OnnxPredictorOptions { IntraOpThreads = threads });
            (predictor, predict) = (onnx, inputs => onnx.Predict(inputs).Count);
        }
        var loadSeconds = load.Elapsed.TotalSeconds;
        using (predictor)
        {
            // Warm-up: JIT, allocator growth and ONNX Runtime's first-run kernels are not what is measured.
            foreach (var text in texts.Take(8))
            {
                predict([new PredictionInput(text)]);
            }
            predict(texts.Take(16).Select(t => new PredictionInput(t)).ToList());
            var single = Time(texts.Select(t => (IReadOnlyList<PredictionInput>)[new PredictionInput(t)]).ToList(), predict);
            var batched = Time(texts.Chunk(16).Select(c => (IReadOnlyList<PredictionInput>)c.Select(t => new PredictionInput(t)).ToList()).ToList(), predict);
            var status = File.ReadAllLines("/proc/self/status");
            double Kib(string key) => long.Parse(status.First(l => l.StartsWith(key, StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1],
                CultureInfo.InvariantCulture) / 1024.0;
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                backend, load_s = loadSeconds, batch1 = single, batch16 = batched, rss_mib = Kib("VmRSS:"), peak_rss_mib = Kib("VmHWM:"),
            }));
        }
        return 0;
    }

    /// <summary>Examples per second and call latencies of one pass.</summary>
    public sealed record Timing(double ExamplesPerSecond, double P50Ms, double P99Ms);

    private static Timing Time(IReadOnlyList<IReadOnlyList<PredictionInput>> calls, Func<IReadOnlyList<PredictionInput>, int> predict)
    {
        var latencies = new List<double>(calls.Count);
        var examples = 0;
        var total = Stopwatch.StartNew();
        foreach (var call in calls)
        {
            var clock = Stopwatch.StartNew();
            examples += predict(call);
            latencies.Add(clock.Elapsed.TotalMilliseconds);
        }
        var seconds = total.Elapsed.TotalSeconds;
        latencies.Sort();
        double Percentile(double p) => latencies[Math.Min(latencies.Count - 1, (int)Math.Ceiling(p * latencies.Count) - 1)];
        return new Timing(examples / seconds, Percentile(0.50), Percentile(0.99));
    }

    // Its own method, so that an ONNX Runtime round never touches a TorchSharp type (and never loads libtorch).
    private static (IDisposable, Func<IReadOnlyList<PredictionInput>, int>) LoadTorch(string checkpoint, string plugins, int threads)
    {
        TorchSharp.torch.set_num_threads(threads);
        var torchPredictor = MultiTaskPredictor.Load(checkpoint, plugins);
        return (torchPredictor, inputs => torchPredictor.Predict(inputs).Count);
    }
}
