using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using MtlHost.Commands;
using MtlHost.Core.Export.Onnx;
using MtlHost.Core.Inference;
using MtlHost.Inference;
using MtlHost.Inference.Onnx;
using MtlHost.Predictions;
using MtlHost.Predictions.Onnx;
using static MtlHost.Benchmarks.Rounds;

namespace MtlHost.Benchmarks;

/// <summary>
/// <c>onnx</c>: a checkpoint predicted by the TorchSharp predictor, by ONNX Runtime from the fp32 export and from the int8
/// export. Quality: each task's validation score under the three, and how often int8 (and fp32) predict what fp32 (and
/// torch) predict. Speed: rounds of examples/s and p50/p99 latency at batch 1 and 16 over the same texts, the three taking
/// turns within each round, each in a process of its own (<see cref="OnnxRound"/>) so that its RSS is its own; the same
/// number of threads for torch and ONNX Runtime. Model file sizes.
/// </summary>
public static class OnnxBenchmark
{
    private static readonly string[] Backends = ["torch", "fp32", "int8"];

    /// <summary>Whether the quality section leaves the TorchSharp predictor out (when the plugins are not the checkpoint's).</summary>
    public static bool SkipTorch { get; set; }

    /// <summary>Whether the quality section leaves the unsmoothed int8 export out when smoothed variants are measured.</summary>
    public static bool SkipUnsmoothed { get; set; }

    /// <summary>Runs the benchmark.</summary>
    /// <param name="self">Path of this benchmark's DLL, to start rounds with.</param>
    /// <param name="checkpoint">The checkpoint.</param>
    /// <param name="plugins">The plugins it was trained with.</param>
    /// <param name="threads">Torch threads and ONNX Runtime intra-op threads.</param>
    /// <param name="rounds">Speed rounds.</param>
    /// <param name="texts">The texts timed.</param>
    /// <param name="examples">Validation examples per task for the quality figures (at most).</param>
    /// <param name="calibrationTexts">Training texts per task that calibrate the smoothed int8 variants (at most).</param>
    /// <param name="alphas">SmoothQuant α of each smoothed int8 variant whose quality is measured too; the one of the speed rounds is the first, if any.</param>
    /// <returns>0, or 1 when a round failed.</returns>
    public static int Run(string self, string checkpoint, string plugins, int threads, int rounds, IReadOnlyList<string> texts, int examples,
        int calibrationTexts, IReadOnlyList<float> alphas)
    {
        var work = Path.Combine(Path.GetTempPath(), $"mtlhost-onnx-bench-{Environment.ProcessId}");
        try
        {
            var exports = new Dictionary<string, string> { ["torch"] = Path.GetFullPath(checkpoint) };
            foreach (var (name, quantization) in new[] { ("fp32", "none"), ("int8", "int8") })
            {
                var clock = Stopwatch.StartNew();
                var result = OnnxCheckpointExporter.Export(checkpoint, Path.Combine(work, name), quantization);
                exports[name] = result.Directory;
                Console.WriteLine($"export {name}: {result.ModelBytes / 1048576.0:F1} MiB model.onnx in {clock.Elapsed.TotalSeconds:F1} s" +
                                  (result.NotExported.Count > 0 ? $", not exported: {string.Join(", ", result.NotExported.Select(t => t.Id))}" : ""));
            }
            var smoothed = SmoothedVariants(checkpoint, plugins, threads, calibrationTexts, alphas, work);
            var torchBytes = Directory.GetFiles(checkpoint, "*.bin", SearchOption.AllDirectories)
                .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}optimizer", StringComparison.Ordinal)).Sum(f => new FileInfo(f).Length);
            Console.WriteLine($"model files: torch checkpoint weights (encoder.bin, heads, branches; no optimizer state) {torchBytes / 1048576.0:F1} MiB, " +
                              $"fp32 model.onnx {new FileInfo(Path.Combine(exports["fp32"], "model.onnx")).Length / 1048576.0:F1} MiB, " +
                              $"int8 model.onnx {new FileInfo(Path.Combine(exports["int8"], "model.onnx")).Length / 1048576.0:F1} MiB");

            Quality(exports, smoothed, plugins, threads, examples);
            if (smoothed.Count > 0)
            {
                // The speed rounds time the first smoothed variant as int8.
                exports["int8"] = smoothed[0].Directory;
            }
            return rounds == 0 ? 0 : Speed(self, exports, plugins, threads, rounds, texts, work);
        }
        finally
        {
            try
            {
                Directory.Delete(work, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    // Int8 exports smoothed with activation maxima measured on each task's first training texts, per α one with its weights
    // rounded by GPTQ on the same texts' correlations and one rounded to nearest.
    private static List<(string Name, string Directory)> SmoothedVariants(string checkpoint, string plugins, int threads, int perTask, IReadOnlyList<float> alphas, string work)
    {
        if (alphas.Count == 0)
        {
            return [];
        }
        // The texts `export --plugins` calibrates on: each training task's first training examples, as its plugin reads them.
        var texts = CalibrationTexts.Read(checkpoint, plugins, perTask);
        var clock = Stopwatch.StartNew();
        var calibration = Int8Calibrator.Measure(checkpoint, texts, threads: threads);
        Console.WriteLine($"calibration: {texts.Count} training texts ({perTask} per task at most) in {clock.Elapsed.TotalSeconds:F1} s");
        var variants = new List<(string, string)>();
        foreach (var alpha in alphas)
        {
            // GPTQ first: the speed rounds time the first variant, the one export --plugins writes.
            foreach (var gptq in new[] { true, false })
            {
                var name = $"int8 SmoothQuant α {alpha.ToString(CultureInfo.InvariantCulture)}" + (gptq ? " + GPTQ" : "");
                clock.Restart();
                var result = OnnxCheckpointExporter.Export(checkpoint, Path.Combine(work, $"sq{alpha.ToString(CultureInfo.InvariantCulture)}{(gptq ? "-gptq" : "")}"), "int8",
                    calibration with { Alpha = alpha, InputCorrelations = gptq ? calibration.InputCorrelations : null });
                Console.WriteLine($"export {name}: {result.ModelBytes / 1048576.0:F1} MiB model.onnx in {clock.Elapsed.TotalSeconds:F1} s");
                variants.Add((name, result.Directory));
            }
        }
        return variants;
    }

    private static void Quality(Dictionary<string, string> exports, List<(string Name, string Directory)> smoothed, string plugins, int threads, int limit)
    {
        foreach (var (name, directory) in smoothed)
        {
            Console.WriteLine();
            Console.WriteLine($"variant: {name} as int8");
            Quality(new Dictionary<string, string>(exports) { ["int8"] = directory }, plugins, threads, limit);
        }
        if (smoothed.Count > 0)
        {
            if (SkipUnsmoothed)
            {
                return;
            }
            Console.WriteLine();
            Console.WriteLine("variant: int8 unsmoothed");
        }
        Quality(exports, plugins, threads, limit);
    }

    private static void Quality(Dictionary<string, string> exports, string plugins, int threads, int limit)
    {
        TorchSharp.torch.set_num_threads(threads);
        // Without torch (--no-torch: plugins other than the checkpoint's), its column repeats fp32's.
        using var torchPredictor = SkipTorch ? null : MultiTaskPredictor.Load(exports["torch"], plugins);
        using var fp32 = OnnxMultiTaskPredictor.Load(exports["fp32"], new OnnxPredictorOptions { IntraOpThreads = threads });
        using var int8 = OnnxMultiTaskPredictor.Load(exports["int8"], new OnnxPredictorOptions { IntraOpThreads = threads });
        Console.WriteLine();
        Console.WriteLine($"validation quality (at most {limit} examples per task; score: the task's primary metric, recomputed from the predictions):");
        Console.WriteLine($"  {"task",-14} {"examples",8} {"score",-15} {"torch",8} {"ort fp32",8} {"ort int8",8} {"int8 drop",10} {"int8=fp32",10} {"fp32=torch",10}");
        foreach (var task in fp32.Tasks.Where(t => t.State == "Training"))
        {
            var examples = ValidationQuality.Read(plugins, task.Id, limit);
            if (examples.Count == 0)
            {
                Console.WriteLine($"  {task.Id,-14} no validation data in {plugins}");
                continue;
            }
            List<TaskPrediction> PredictAll(Func<IReadOnlyList<PredictionInput>, IReadOnlyList<PredictionResponse>> predict) =>
                examples.Chunk(16).SelectMany(chunk => predict(chunk.Select(e => new PredictionInput(e.Text)).ToList()).Select(r => r.Tasks.Single())).ToList();
            var byTorch = torchPredictor is null ? null! : PredictAll(inputs => torchPredictor.Predict(inputs, task.Id));
            var byFp32 = PredictAll(inputs => fp32.Predict(inputs, task.Id));
            var byInt8 = PredictAll(inputs => int8.Predict(inputs, task.Id));
            byTorch ??= byFp32;
            var (name, torchScore) = ValidationQuality.Score(task.Kind, examples, byTorch);
            var fp32Score = ValidationQuality.Score(task.Kind, examples, byFp32).Value;
            var int8Score = ValidationQuality.Score(task.Kind, examples, byInt8).Value;
            double Share(List<TaskPrediction> a, List<TaskPrediction> b) => 100.0 * a.Zip(b).Count(p => ValidationQuality.Agree(p.First, p.Second)) / a.Count;
            // A token task's example is a sentence: every word must agree for it to count; its words are counted too.
            var words = byInt8.Zip(byFp32).SelectMany(p => (p.First.Words ?? []).Zip(p.Second.Words ?? [])).ToList();
            // A multi-label example must get its whole label set right; its yes/no decisions, one per label, are counted too.
            var decisions = (long)examples.Count * task.Labels.Count;
            static int Differing(TaskPrediction a, TaskPrediction b)
            {
                var labels = new HashSet<string>(a.Labels ?? []);
                labels.SymmetricExceptWith(b.Labels ?? []);
                return labels.Count;
            }
            var decisionsDiffering = byInt8.Zip(byFp32).Sum(p => (long)Differing(p.First, p.Second));
            var ties = NearTies(fp32, task, examples);
            var apart = byInt8.Zip(byFp32).Where((_, i) => !ties.Contains(i)).ToList();
            Console.WriteLine($"  {task.Id,-14} {examples.Count,8} {name,-15} {torchScore,8:F4} {fp32Score,8:F4} {int8Score,8:F4} " +
                              $"{100 * (fp32Score - int8Score),9:+0.00;-0.00;0.00} {Share(byInt8, byFp32),9:F2}% {Share(byFp32, byTorch),9:F2}%" +
                              (words.Count > 0 ? $"  (words: int8=fp32 {100.0 * words.Count(w => w.First.Label == w.Second.Label) / words.Count:F2}% of {words.Count})" : "") +
                              (task.Kind == "MultiLabelClassification" && decisions > 0
                                  ? $"  (label decisions: int8=fp32 {100.0 * (decisions - decisionsDiffering) / decisions:F2}% of {decisions})" : "") +
                              (HasNearTies(task.Kind)
                                  ? $"  (near ties: {ties.Count} examples; int8=fp32 on the others {100.0 * apart.Count(p => ValidationQuality.Agree(p.First, p.Second)) / Math.Max(1, apart.Count):F2}%)"
                                  : ""));
        }
        Console.WriteLine("  (int8 drop: points of score lost from ort fp32 to ort int8; int8=fp32 and fp32=torch: share of examples predicted the same;");
        Console.WriteLine($"   near ties: examples whose fp32 decision turns on a logit difference under {NearTie} — the two largest logits, or a label's logit and 0 —");
        Console.WriteLine("   below int8's typical logit error, so any rounding may tip them)");
    }

    // A logit difference under which a decision is a tie in all but name: int8's logit error on the sample checkpoints is
    // 0.03 at the median example.
    private const float NearTie = 0.01f;

    // A text classification task's, single- or multi-label: one decision from logits per text.
    private static bool HasNearTies(string kind) => kind is TaskKindNames.SequenceClassification or TaskKindNames.MultiLabelClassification;

    // Indices of the examples of a text classification task (single- or multi-label) whose fp32 decision is a near tie.
    private static HashSet<int> NearTies(OnnxMultiTaskPredictor fp32, OnnxTaskOutput task, IReadOnlyList<ValidationQuality.Example> examples)
    {
        var ties = new HashSet<int>();
        if (!HasNearTies(task.Kind))
        {
            return ties;
        }
        var index = 0;
        foreach (var chunk in examples.Chunk(16))
        {
            var logits = fp32.Run(fp32.Encode(chunk.Select(e => new PredictionInput(e.Text)).ToList(), [task]), [task.Output])[task.Output];
            for (var row = 0; row < chunk.Length; row++, index++)
            {
                var values = logits.Row(row).ToArray();
                var margin = task.Kind == TaskKindNames.MultiLabelClassification
                    ? values.Min(Math.Abs)
                    : values.Max() - values.OrderDescending().ElementAt(1);
                if (margin < NearTie)
                {
                    ties.Add(index);
                }
            }
        }
        return ties;
    }

    private static int Speed(string self, Dictionary<string, string> exports, string plugins, int threads, int rounds, IReadOnlyList<string> texts, string work)
    {
        var textsFile = Path.Combine(work, "texts.jsonl");
        File.WriteAllLines(textsFile, texts.Select(t => JsonSerializer.Serialize(t)));
        Console.WriteLine();
        Console.WriteLine($"speed: {texts.Count} texts (every task predicted for each), {threads} thread(s) each (torch threads = ONNX Runtime intra-op threads), " +
                          $"{rounds} rounds, torch, fp32 and int8 taking turns, each round in a fresh process:");
        var results = Backends.ToDictionary(b => b, _ => new List<JsonElement>());
        for (var round = 1; round <= rounds; round++)
        {
            foreach (var backend in Backends)
            {
                var start = new ProcessStartInfo("dotnet", [self, "onnx-round", "--backend", backend, "--model", exports[backend], "--plugins", plugins,
                    "--threads", threads.ToString(CultureInfo.InvariantCulture), "--texts", textsFile])
                {
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                    UseShellExecute = false,
                };
                start.Environment["OMP_NUM_THREADS"] = threads.ToString(CultureInfo.InvariantCulture);
                using var process = Process.Start(start)!;
                var errors = process.StandardError.ReadToEndAsync();
                var output = process.StandardOutput.ReadToEnd();
                process.WaitForExit();
                var line = output.Split('\n').LastOrDefault(l => l.StartsWith('{'));
                if (process.ExitCode != 0 || line is null)
                {
                    Console.WriteLine($"  round {round} {backend} failed ({process.ExitCode}): {errors.Result}{output}");
                    return 1;
                }
                var result = JsonDocument.Parse(line).RootElement;
                results[backend].Add(result);
                Console.WriteLine($"  round {round} {Describe(backend, result)}");
            }
            var torchB1 = results["torch"][^1].GetProperty("batch1").GetProperty("ExamplesPerSecond").GetDouble();
            Console.WriteLine($"  round {round} batch 1 throughput vs torch: fp32 {Rate(results["fp32"][^1]) / torchB1:F2}x, int8 {Rate(results["int8"][^1]) / torchB1:F2}x");
        }
        Console.WriteLine("  median over rounds:");
        foreach (var backend in Backends)
        {
            var b1 = Median(results[backend].Select(Rate));
            var b16 = Median(results[backend].Select(r => r.GetProperty("batch16").GetProperty("ExamplesPerSecond").GetDouble()));
            Console.WriteLine($"    {backend,-5} batch 1 {b1,7:F1} ex/s, batch 16 {b16,7:F1} ex/s; batch 1 vs torch {b1 / Median(results["torch"].Select(Rate)):F2}x");
        }
        return 0;
    }

    private static double Rate(JsonElement result) => result.GetProperty("batch1").GetProperty("ExamplesPerSecond").GetDouble();

    private static string Describe(string backend, JsonElement result)
    {
        string Pass(string name)
        {
            var pass = result.GetProperty(name);
            return $"{pass.GetProperty("ExamplesPerSecond").GetDouble(),7:F1} ex/s p50 {pass.GetProperty("P50Ms").GetDouble(),7:F1} ms p99 {pass.GetProperty("P99Ms").GetDouble(),7:F1} ms";
        }
        return $"{backend,-5} batch 1: {Pass("batch1")} | batch 16: {Pass("batch16")} | RSS {result.GetProperty("rss_mib").GetDouble():F0} MiB " +
               $"(peak {result.GetProperty("peak_rss_mib").GetDouble():F0}), load {result.GetProperty("load_s").GetDouble():F1} s";
    }
}
