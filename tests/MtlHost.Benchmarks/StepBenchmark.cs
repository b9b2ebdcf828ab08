using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using MtlHost.Core.Sampling;
using MtlHost.Core.Training;
using static MtlHost.Benchmarks.Rounds;

namespace MtlHost.Benchmarks;

/// <summary>
/// Steady-state training step: the host's joint trainer (the two single-label sample tasks, since the bare loop only does
/// single-label classification, loaded from DLLs) against <see cref="BareTrainingLoop"/>, same model shape and data, and
/// the same work: each round the host trains through its real step path (<see cref="JointTrainer.RunStep"/>, its own task
/// sampling and batch order), the (task, example indices) of each step are recorded, and the bare loop replays exactly that
/// batch right after it. With MiniLM a batch costs from a few tokens (wordclass glosses) to 16 × 128 (spam), so batches
/// drawn independently would make a round's time say more about which batches came up than about the host. Alternating
/// step by step also makes a change in the machine's speed (a shared machine) hit both sides alike.
/// </summary>
public static class StepBenchmark
{
    /// <summary>A step's batch: which task (index into the benchmark's tasks) and which of its training examples.</summary>
    /// <param name="Task">The task's index.</param>
    /// <param name="Examples">Indices into the task's training split, in batch order.</param>
    public sealed record ScheduledBatch(int Task, IReadOnlyList<int> Examples);

    /// <summary>Runs the benchmark and prints every round and the median of the per-round ratios.</summary>
    /// <param name="setup">Encoder and plugins.</param>
    /// <param name="steps">Timed steps per round and side.</param>
    /// <param name="rounds">Rounds; the ratio of each is its host time over its bare time.</param>
    public static void Run(BenchmarkSetup setup, int steps, int rounds)
    {
        var options = new TrainingOptions { Steps = 1_000_000, BatchSize = 16, LogEvery = 0, Seed = 42 };
        var runtimes = setup.CreateRuntimes(options, "spam", "wordclass");
        var taskIndex = runtimes.Select((r, i) => (r.Id, i)).ToDictionary(x => x.Id, x => x.i);
        using var hostEncoder = setup.CreateEncoder(42);
        using var trainer = new JointTrainer(hostEncoder, runtimes, new ProportionalTaskSampler(), options, 5e-4, TorchSharp.torch.CPU,
            setup.Tokenizer.PadId, NullLogger.Instance);
        using var bareEncoder = setup.CreateEncoder(42);
        using var bare = new BareTrainingLoop(bareEncoder, runtimes.Select(r => r.Train).ToArray(),
            runtimes.Select(r => r.Descriptor.Labels.Count).ToArray(), setup.Tokenizer.PadId);
        TrainingStepRecord? last = null;
        trainer.StepCompleted += record => last = record;

        // One host step, timed alone; the batches it drew are read after the clock stops.
        double HostStep(List<ScheduledBatch> schedule)
        {
            var clock = Stopwatch.StartNew();
            trainer.RunStep();
            var seconds = clock.Elapsed.TotalSeconds;
            schedule.AddRange(last!.Tasks.Select(t => new ScheduledBatch(taskIndex[t.TaskId], runtimes[taskIndex[t.TaskId]].LastTrainBatch)));
            return seconds;
        }

        double BareStep(IEnumerable<ScheduledBatch> batches)
        {
            var clock = Stopwatch.StartNew();
            foreach (var batch in batches)
            {
                bare.Step(batch.Task, batch.Examples);
            }
            return clock.Elapsed.TotalSeconds;
        }

        // Host step, then the bare loop on the same batch(es); returns the mean seconds per step of each side.
        (double Host, double Bare) Round(int count, List<ScheduledBatch> schedule)
        {
            double host = 0, baseline = 0;
            for (var i = 0; i < count; i++)
            {
                var before = schedule.Count;
                host += HostStep(schedule);
                baseline += BareStep(schedule.Skip(before));
            }
            return (host / count, baseline / count);
        }

        long PaddedTokens(List<ScheduledBatch> schedule) =>
            schedule.Sum(b => (long)b.Examples.Count * b.Examples.Max(i => runtimes[b.Task].Train[i].InputIds.Length));

        Round(Math.Max(5, steps / 10), []);

        Console.WriteLine();
        Console.WriteLine($"training step, {setup.EncoderName} encoder, batch {options.BatchSize}, tasks {string.Join(", ", runtimes.Select(r => r.Id))}, " +
                          $"{steps} steps x {rounds} rounds; after each host step the bare loop trains on the same (task, examples):");
        var ratios = new List<double>();
        var hostTimes = new List<double>();
        var bareTimes = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            var schedule = new List<ScheduledBatch>(steps);
            var (host, baseline) = Round(steps, schedule);
            hostTimes.Add(host);
            bareTimes.Add(baseline);
            ratios.Add(host / baseline);
            var perTask = string.Join(" ", schedule.GroupBy(b => runtimes[b.Task].Id).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key}={g.Count()}"));
            Console.WriteLine($"  round {round + 1}: host {1000 * host,9:F2} ms/step  bare {1000 * baseline,9:F2} ms/step  host/bare {host / baseline:F3}x   " +
                              $"({schedule.Count} batches: {perTask}; {PaddedTokens(schedule):N0} padded tokens, the same on both sides)");
        }
        Console.WriteLine($"  host joint trainer : median {1000 * Median(hostTimes):F2} ms/step");
        Console.WriteLine($"  bare TorchSharp    : median {1000 * Median(bareTimes):F2} ms/step");
        Console.WriteLine($"  host / bare, median of the per-round ratios: {Median(ratios):F3}x (rounds {string.Join(" ", ratios.Select(r => r.ToString("F3")))}; target <= 1.05x)");
        foreach (var runtime in runtimes)
        {
            runtime.Dispose();
        }
    }
}
