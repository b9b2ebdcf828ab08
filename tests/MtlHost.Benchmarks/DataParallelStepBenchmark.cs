using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using MtlHost.Core.Distributed;
using MtlHost.Core.Sampling;
using MtlHost.Core.Training;
using static TorchSharp.torch;
using static MtlHost.Benchmarks.Rounds;

namespace MtlHost.Benchmarks;

/// <summary>
/// The host's real training step over the six sample tasks, split into compute and communication, for one way of using
/// the cores per run: <c>mpirun -np 2 … dpstep --threads 1</c> (2 processes × 1 thread), <c>dpstep --threads 2</c>
/// (1 × 2), <c>dpstep --threads 1</c> (1 × 1). Every way trains the same global batch (<c>--global-batch</c>, split
/// across the processes) of the same examples, drawn by the same seeded sampler, so the step times compare the same
/// work. Communication is the time in the step's collectives (the first of them absorbs the wait for the slower
/// process); with several processes each round also all-reduces the same number of bytes as the gradient averaging with
/// raw MPI calls of at most a bucket, in the same run, for the achieved-against-raw bandwidth; after the rounds, raw calls
/// each right after one more step give the same comparison in the memory state the averaging meets inside a step.
/// </summary>
public static class DataParallelStepBenchmark
{
    /// <summary>Runs the benchmark; rank 0 prints every round and the medians.</summary>
    /// <param name="setup">Encoder and plugins.</param>
    /// <param name="globalBatch">Examples per step over all processes; divisible by their number.</param>
    /// <param name="steps">Timed steps per round.</param>
    /// <param name="rounds">Rounds.</param>
    /// <param name="rawCalls">Raw all-reduces of the gradient's bytes per round (several processes only).</param>
    /// <returns>The exit code.</returns>
    public static int Run(BenchmarkSetup setup, int globalBatch, int steps, int rounds, int rawCalls)
    {
        using var group = ProcessGroups.Detect();
        if (globalBatch % group.Size != 0)
        {
            Console.Error.WriteLine($"--global-batch {globalBatch} does not split into {group.Size} processes; pick a multiple of {group.Size}.");
            return 2;
        }
        var options = new TrainingOptions { Steps = 1_000_000, BatchSize = globalBatch / group.Size, LogEvery = 0, EvalEvery = 0, Seed = 42 };
        var runtimes = setup.CreateRuntimes(options);
        using var encoder = setup.CreateEncoder(42);
        using var trainer = new JointTrainer(encoder, runtimes, new ProportionalTaskSampler(), options, 5e-4, CPU, setup.Tokenizer.PadId,
            NullLogger.Instance);
        trainer.TrainWith(group);
        // Every trainable parameter's gradient is averaged each step (buckets of only unsampled heads are skipped: a few KB).
        var bytes = encoder.parameters().Concat(runtimes.SelectMany(r => r.Head.parameters())).Where(p => p.requires_grad).Sum(p => p.numel()) * sizeof(float);
        var raw = group.Size > 1 ? GC.AllocateArray<float>(checked((int)(bytes / sizeof(float))), pinned: true) : [];
        new Random(group.Rank).NextBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(raw.AsSpan()));
        for (var i = 0; i < raw.Length; i++)
        {
            raw[i] = float.IsFinite(raw[i]) ? raw[i] % 1f : 0f;
        }

        for (var i = 0; i < 3; i++)
        {
            trainer.RunStep();
        }
        if (group.IsRoot)
        {
            Console.WriteLine();
            Console.WriteLine($"data-parallel step, {setup.EncoderName}, {group.Size} process(es) x {get_num_threads()} thread(s), global batch {globalBatch} " +
                              $"({options.BatchSize} per process), tasks {string.Join(", ", runtimes.Select(r => r.Id))}, proportional sampler, " +
                              $"{steps} steps x {rounds} rounds after 3 warm-up steps; gradient averaged per step: {bytes / 1e6:F1} MB");
        }
        var stepTimes = new List<double>();
        var communication = new List<double>();
        var ratios = new List<double>();
        var averaging = new List<double>();
        for (var round = 1; round <= rounds; round++)
        {
            group.Barrier();
            var communicationBefore = trainer.CommunicationTime;
            var averagingBefore = trainer.GradientAveragingTime;
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < steps; i++)
            {
                trainer.RunStep();
            }
            var perStep = clock.Elapsed.TotalSeconds / steps;
            var communicationPerStep = (trainer.CommunicationTime - communicationBefore).TotalSeconds / steps;
            var averagingPerStep = (trainer.GradientAveragingTime - averagingBefore).TotalSeconds / steps;
            averaging.Add(averagingPerStep);
            stepTimes.Add(perStep);
            communication.Add(communicationPerStep);
            var line = $"  round {round}: step {1000 * perStep,8:F1} ms = compute {1000 * (perStep - communicationPerStep),8:F1} ms + communication " +
                       $"{1000 * communicationPerStep,7:F1} ms ({100 * communicationPerStep / perStep,4:F1}% of the step)";
            if (group.Size > 1)
            {
                group.Barrier();
                var rawClock = Stopwatch.StartNew();
                for (var call = 0; call < rawCalls; call++)
                {
                    AllReduceInPieces(group, raw, GradientBuckets.DefaultBucketBytes);
                }
                var rawSeconds = rawClock.Elapsed.TotalSeconds / rawCalls;
                ratios.Add(rawSeconds / averagingPerStep);
                line += $"; gradient averaging {1000 * averagingPerStep:F1} ms = {bytes / averagingPerStep / 1e9:F2} GB/s, raw MPI same bytes " +
                        $"{1000 * rawSeconds:F1} ms = {bytes / rawSeconds / 1e9:F2} GB/s: achieved/raw {rawSeconds / averagingPerStep:F3}x";
            }
            if (group.IsRoot)
            {
                Console.WriteLine(line);
            }
        }
        if (group.IsRoot)
        {
            Console.WriteLine($"  median: step {1000 * Median(stepTimes):F1} ms, communication {1000 * Median(communication):F1} ms " +
                              $"({100 * Median(communication) / Median(stepTimes):F1}%), compute {1000 * (Median(stepTimes) - Median(communication)):F1} ms" +
                              (ratios.Count > 0 ? $"; achieved/raw bandwidth {Median(ratios):F3}x (target >= 0.9x)" : ""));
        }
        if (group.Size > 1)
        {
            // The averaging inside a step meets the memory a backward pass has just written and freed; raw calls after a
            // barrier mostly do not. So, after the rounds (the rounds' work stays the same in every way): one more step,
            // then one raw call, timed, each time.
            var afterStep = new List<double>();
            for (var call = 0; call < Math.Max(3, rounds); call++)
            {
                trainer.RunStep();
                group.Barrier();
                var rawClock = Stopwatch.StartNew();
                AllReduceInPieces(group, raw, GradientBuckets.DefaultBucketBytes);
                afterStep.Add(rawClock.Elapsed.TotalSeconds);
            }
            if (group.IsRoot)
            {
                Console.WriteLine($"  raw MPI of the same bytes, each right after a step: {string.Join(", ", afterStep.Select(t => $"{1000 * t:F1}"))} ms, median " +
                                  $"{1000 * Median(afterStep):F1} ms; the rounds' averaging median {1000 * Median(averaging):F1} ms: achieved/raw in a step's " +
                                  $"memory state {Median(afterStep) / Median(averaging):F3}x (target >= 0.9x)");
            }
        }
        foreach (var runtime in runtimes)
        {
            runtime.Dispose();
        }
        group.Barrier();
        return 0;
    }

    private static void AllReduceInPieces(IProcessGroup group, float[] values, long pieceBytes)
    {
        var piece = (int)(pieceBytes / sizeof(float));
        for (var offset = 0; offset < values.Length; offset += piece)
        {
            group.AllReduceSum(values.AsSpan(offset, Math.Min(piece, values.Length - offset)));
        }
    }
}
