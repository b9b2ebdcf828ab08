using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using MtlHost.Benchmarks;
using MtlHost.Core.Sampling;
using MtlHost.Core.Training;

// Figures, not pass/fail: each benchmark measures the host against a baseline in the same run
// and prints the ratio.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
if (args.FirstOrDefault() == "onnx-round")
{
    // One timed round of the onnx benchmark in a process of its own: before anything below touches torch, so that an
    // ONNX Runtime round's RSS has no libtorch in it.
    return OnnxRound.Run(Option("--backend")!, Option("--model")!, Option("--plugins")!, int.Parse(Option("--threads")!, CultureInfo.InvariantCulture),
        Option("--texts")!);
}
var which = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal)) ?? "all";
var encoder = Option("--encoder") ?? "tiny";
// Set, never left to the default: libtorch's default depends on the machine and on OMP_NUM_THREADS, and a figure is only
// comparable to another taken with the same number of threads.
var threads = int.Parse(Option("--threads") ?? Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
TorchSharp.torch.set_num_threads(threads);
// peer builds its own MiniLM-shaped encoder, whatever --encoder says; onnx takes the checkpoint's.
Console.WriteLine($"MtlHost benchmarks — {which}{(which is "peer" or "onnx" ? "" : $", encoder {encoder}")}, {Environment.ProcessorCount} cores, TorchSharp threads {TorchSharp.torch.get_num_threads()} (--threads)");

if (which is "resume")
{
    // Drives the real host process, so it needs none of the in-process setup below.
    var root = BenchmarkSetup.RepositoryRoot();
    var builtHost = new[] { "Debug", "Release" }.Select(c => Path.Combine(root, "src", "MtlHost", "bin", c, "net10.0", "mtlhost.dll")).FirstOrDefault(File.Exists);
    return ResumeBenchmark.Run(Option("--host") ?? builtHost ?? throw new InvalidOperationException("mtlhost.dll not found: build src/MtlHost or pass --host PATH."),
        Option("--plugins") ?? Path.Combine(root, "artifacts", "plugins"),
        int.Parse(Option("--steps") ?? "400", CultureInfo.InvariantCulture), int.Parse(Option("--every") ?? "20", CultureInfo.InvariantCulture),
        int.Parse(Option("--kills") ?? "5", CultureInfo.InvariantCulture), int.Parse(Option("--seed") ?? "1", CultureInfo.InvariantCulture));
}
if (which is "predict")
{
    // Drives the real serve process over loopback.
    var root = BenchmarkSetup.RepositoryRoot();
    var builtHost = new[] { "Release", "Debug" }.Select(c => Path.Combine(root, "src", "MtlHost", "bin", c, "net10.0", "mtlhost.dll")).FirstOrDefault(File.Exists);
    return PredictLatencyBenchmark.Run(Option("--host") ?? builtHost ?? throw new InvalidOperationException("mtlhost.dll not found: build src/MtlHost or pass --host PATH."),
        Option("--plugins") ?? Path.Combine(root, "artifacts", "plugins"), encoder, int.Parse(Option("--clients") ?? "4", CultureInfo.InvariantCulture),
        int.Parse(Option("--passes") ?? "5", CultureInfo.InvariantCulture), PredictLatencyBenchmark.SampleTexts(root), threads);
}
if (which is "peer")
{
    // The host's TorchSharp stack against PyTorch (pytorch_peer.py) on the same MiniLM-shaped step; needs no plugins.
    return PeerBenchmark.Run(Option("--python") ?? "/usr/bin/python3",
        Path.Combine(BenchmarkSetup.RepositoryRoot(), "tests", "MtlHost.Benchmarks", "pytorch_peer.py"), threads,
        int.Parse(Option("--steps") ?? "10", CultureInfo.InvariantCulture), int.Parse(Option("--rounds") ?? "3", CultureInfo.InvariantCulture),
        int.Parse(Option("--warmup") ?? "3", CultureInfo.InvariantCulture),
        double.Parse(Option("--attention-dropout") ?? "0.1", CultureInfo.InvariantCulture));
}
if (which is "onnx")
{
    // A checkpoint by the TorchSharp predictor against its ONNX exports (fp32, int8) under ONNX Runtime; the checkpoint's plugins.
    var root = BenchmarkSetup.RepositoryRoot();
    OnnxBenchmark.SkipTorch = args.Contains("--no-torch");
    OnnxBenchmark.SkipUnsmoothed = args.Contains("--no-unsmoothed");
    return OnnxBenchmark.Run(typeof(OnnxBenchmark).Assembly.Location,
        Option("--checkpoint") ?? throw new InvalidOperationException("onnx needs --checkpoint DIR: a checkpoint of a training run (and --plugins DIR, the plugins it was trained with)."),
        Option("--plugins") ?? Path.Combine(root, "artifacts", "plugins"), threads, int.Parse(Option("--rounds") ?? "3", CultureInfo.InvariantCulture),
        PredictLatencyBenchmark.SampleTexts(root).Take(int.Parse(Option("--texts") ?? "64", CultureInfo.InvariantCulture)).ToList(),
        int.Parse(Option("--examples") ?? "100000", CultureInfo.InvariantCulture),
        int.Parse(Option("--calibration-texts") ?? "300", CultureInfo.InvariantCulture),
        (Option("--smoothquant") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(a => float.Parse(a, CultureInfo.InvariantCulture)).ToList());
}
if (which is "allreduce")
{
    // Runs on every rank of an mpirun and needs no plugins: the MPI layer alone, on MiniLM's gradient size.
    return AllReduceBenchmark.Run(int.Parse(Option("--rounds") ?? "5", CultureInfo.InvariantCulture),
        double.Parse(Option("--bucket-mib") ?? "25", CultureInfo.InvariantCulture));
}
using var setup = BenchmarkSetup.Load(encoder);
if (which is "dpstep")
{
    // Under mpirun for several processes, or alone: the same global batch either way.
    return DataParallelStepBenchmark.Run(setup, int.Parse(Option("--global-batch") ?? "16", CultureInfo.InvariantCulture),
        int.Parse(Option("--steps") ?? (encoder == "tiny" ? "40" : "8"), CultureInfo.InvariantCulture),
        int.Parse(Option("--rounds") ?? "3", CultureInfo.InvariantCulture), int.Parse(Option("--raw-calls") ?? "3", CultureInfo.InvariantCulture));
}
if (which is "step" or "all")
{
    StepBenchmark.Run(setup, int.Parse(Option("--steps") ?? (encoder == "tiny" ? "400" : "40"), CultureInfo.InvariantCulture),
        int.Parse(Option("--rounds") ?? "3", CultureInfo.InvariantCulture));
}
if (which is "encoder")
{
    var texts = setup.LongTexts(16, 128);
    EncoderThroughput.Run(setup.Tokenizer, texts, int.Parse(Option("--iterations") ?? "10", CultureInfo.InvariantCulture),
        int.Parse(Option("--rounds") ?? "5", CultureInfo.InvariantCulture));
}
if (which is "throughput")
{
    ThroughputBenchmark.Run(setup, int.Parse(Option("--length-window") ?? "8", CultureInfo.InvariantCulture),
        int.Parse(Option("--windows") ?? "1", CultureInfo.InvariantCulture), int.Parse(Option("--rounds") ?? "3", CultureInfo.InvariantCulture));
}
if (which is "tokenize" or "all")
{
    TokenizationThroughput.Run(setup, int.Parse(Option("--batch-size") ?? "16", CultureInfo.InvariantCulture));
}
if (which is "reload")
{
    ReloadBenchmark.Run(setup, int.Parse(Option("--replaces") ?? "20", CultureInfo.InvariantCulture),
        int.Parse(Option("--cycles") ?? "200", CultureInfo.InvariantCulture));
}
if (which is "weighting")
{
    WeightingCostBenchmark.Run(setup, int.Parse(Option("--steps") ?? (encoder == "tiny" ? "30" : "5"), CultureInfo.InvariantCulture),
        int.Parse(Option("--rounds") ?? "3", CultureInfo.InvariantCulture));
}
if (which is "inference")
{
    InferenceBenchmark.Run(setup, int.Parse(Option("--batches") ?? (encoder == "tiny" ? "24" : "6"), CultureInfo.InvariantCulture),
        int.Parse(Option("--batch-size") ?? "16", CultureInfo.InvariantCulture), int.Parse(Option("--rounds") ?? "5", CultureInfo.InvariantCulture));
}
if (which is "memory" or "all")
{
    MemoryBenchmark(int.Parse(Option("--steps") ?? "2000", CultureInfo.InvariantCulture));
}
return 0;

string? Option(string name)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
}

// Native memory stays flat: RSS after 100 and after `steps` training steps of the host.
void MemoryBenchmark(int steps)
{
    var options = new TrainingOptions { Steps = 1_000_000, BatchSize = 16, LogEvery = 0, Seed = 7 };
    var runtimes = setup.CreateRuntimes(options, "spam", "wordclass");
    using var encoder = setup.CreateEncoder(7);
    using var trainer = new JointTrainer(encoder, runtimes, new ProportionalTaskSampler(), options, 5e-4, TorchSharp.torch.CPU,
        setup.Tokenizer.PadId, NullLogger.Instance);
    double? at100 = null;
    var clock = Stopwatch.StartNew();
    for (var step = 1; step <= steps; step++)
    {
        trainer.RunStep();
        if (step == 100)
        {
            at100 = ProcessMemory.ResidentMiB();
        }
    }
    var atEnd = ProcessMemory.ResidentMiB();
    Console.WriteLine();
    Console.WriteLine($"memory, {setup.EncoderName} encoder, {steps} host training steps in {clock.Elapsed.TotalSeconds:F1} s:");
    Console.WriteLine($"  RSS after 100 steps : {at100:F1} MiB");
    Console.WriteLine($"  RSS after {steps} steps: {atEnd:F1} MiB");
    Console.WriteLine($"  growth: {100 * (atEnd - at100!.Value) / at100.Value:+0.0;-0.0}% (target < 5%)");
    foreach (var runtime in runtimes)
    {
        runtime.Dispose();
    }
}
