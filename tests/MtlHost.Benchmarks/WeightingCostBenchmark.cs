using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using MtlHost.Core.Sampling;
using MtlHost.Core.Training;
using MtlHost.Core.Weighting;
using static MtlHost.Benchmarks.Rounds;

namespace MtlHost.Benchmarks;

/// <summary>
/// Per-step cost of every loss weighting relative to EW: the same six sample tasks, the all-tasks
/// sampler (every step a batch of every task, so every weighting sees the same K losses), the same
/// seed and therefore the same batches. Rounds alternate over the weightings so that drift in the
/// machine's speed hits all alike; the median round counts.
/// </summary>
public static class WeightingCostBenchmark
{
    /// <summary>Runs the benchmark and prints the figures.</summary>
    /// <param name="setup">Encoder and plugins.</param>
    /// <param name="steps">Timed steps per weighting and round.</param>
    /// <param name="rounds">Rounds.</param>
    public static void Run(BenchmarkSetup setup, int steps, int rounds = 3)
    {
        var tasks = setup.Tasks.Select(t => t.Task.Descriptor.Id).ToArray();
        var times = WeightingCatalog.Names.ToDictionary(n => n, _ => new List<double>());
        for (var round = 0; round < rounds; round++)
        {
            foreach (var name in WeightingCatalog.Names)
            {
                times[name].Add(TimeSteps(setup, tasks, name, steps));
            }
        }

        Console.WriteLine();
        Console.WriteLine($"loss weighting cost, {setup.EncoderName} encoder, {tasks.Length} tasks every step (all-tasks), batch 16, " +
                          $"{steps} steps x {rounds} rounds, same batches for every weighting; ratio = median over rounds of (time / EW's time in the same round):");
        foreach (var name in WeightingCatalog.Names)
        {
            var ratio = Median(times[name].Select((t, round) => t / times["ew"][round]).ToList());
            var weighting = WeightingCatalog.Create(name);
            Console.WriteLine($"  {name,-9} {1000 * Median(times[name]),9:F1} ms/step  {ratio,6:F3}x EW   {(weighting.NeedsEveryTask ? "needs every task" : "any sampler     ")}" +
                              $"   rounds {string.Join(" ", times[name].Select(t => (1000 * t).ToString("F1")))} ms");
        }
    }

    private static double TimeSteps(BenchmarkSetup setup, string[] tasks, string weighting, int steps)
    {
        var options = new TrainingOptions { Steps = 1_000_000, BatchSize = 16, LogEvery = 0, Seed = 42 };
        var runtimes = setup.CreateRuntimes(options, tasks);
        using var encoder = setup.CreateEncoder(42);
        try
        {
            using var trainer = new JointTrainer(encoder, runtimes, new AllTasksSampler(), options, 5e-4, TorchSharp.torch.CPU,
                setup.Tokenizer.PadId, NullLogger.Instance, WeightingCatalog.Create(weighting));
            // Warm-up, also past the first steps where FAMO and DWA have no history yet.
            for (var i = 0; i < 3; i++)
            {
                trainer.RunStep();
            }
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < steps; i++)
            {
                trainer.RunStep();
            }
            return clock.Elapsed.TotalSeconds / steps;
        }
        finally
        {
            foreach (var runtime in runtimes)
            {
                runtime.Dispose();
            }
        }
    }
}
