using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using MtlHost.Abstractions;
using MtlHost.Core.Data;
using MtlHost.Core.Kinds;
using MtlHost.Core.Training;
using static TorchSharp.torch;

namespace MtlHost.Benchmarks;

/// <summary>
/// Examples per second of the host's data pipeline for each sample task: the first pass reads the
/// task's JSON Lines and tokenizes every example (what <see cref="TaskRuntimeFactory"/> does once per
/// run); later epochs reuse those cached encodings and only pad them into batches, which is measured
/// as the second pass.
/// </summary>
public static class TokenizationThroughput
{
    /// <summary>Runs the benchmark and prints one row per task.</summary>
    /// <param name="setup">The loaded sample plugins.</param>
    /// <param name="batchSize">Examples per batch in the second pass.</param>
    public static void Run(BenchmarkSetup setup, int batchSize)
    {
        var options = new TrainingOptions { BatchSize = batchSize };
        var factory = new TaskRuntimeFactory(setup.Tokenizer, new HeadOptions(setup.Config.HiddenSize, setup.Config.HiddenDropout), CPU,
            options, NullLogger.Instance);
        Console.WriteLine();
        Console.WriteLine($"data pipeline, max length {options.MaxLength}, batch {batchSize} (best of 3 per pass):");
        Console.WriteLine($"  {"task",-20} {"kind",-26} {"examples",8} {"tokens/ex",9} {"read+encode ex/s",17} {"cached batching ex/s",21}");
        // One untimed pass over every task first, so that JIT tiering and first-use costs of the
        // tokenizer do not land on whichever task happens to be timed first.
        foreach (var (task, source) in setup.Tasks)
        {
            factory.Create(task, source).Dispose();
        }
        long allExamples = 0;
        double allFirst = 0, allSecond = 0;
        foreach (var (task, source) in setup.Tasks.OrderBy(t => t.Task.Descriptor.Id, StringComparer.Ordinal))
        {
            TaskRuntime? runtime = null;
            var first = double.MaxValue;
            for (var round = 0; round < 3; round++)
            {
                runtime?.Dispose();
                var clock = Stopwatch.StartNew();
                runtime = factory.Create(task, source);
                first = Math.Min(first, clock.Elapsed.TotalSeconds);
            }
            var examples = runtime!.Train.Concat(runtime.Validation).ToList();
            var second = double.MaxValue;
            for (var round = 0; round < 3; round++)
            {
                var clock = Stopwatch.StartNew();
                for (var start = 0; start < examples.Count; start += batchSize)
                {
                    using var batch = BatchCollator.Collate(examples.GetRange(start, Math.Min(batchSize, examples.Count - start)),
                        runtime.Descriptor.Kind, setup.Tokenizer.PadId, CPU);
                }
                second = Math.Min(second, clock.Elapsed.TotalSeconds);
            }
            var tokens = examples.Average(e => e.InputIds.Length);
            Console.WriteLine($"  {runtime.Id,-20} {runtime.Descriptor.Kind,-26} {examples.Count,8} {tokens,9:F1} {examples.Count / first,17:N0} {examples.Count / second,21:N0}");
            allExamples += examples.Count;
            allFirst += first;
            allSecond += second;
            runtime.Dispose();
        }
        Console.WriteLine($"  {"all",-20} {"",-26} {allExamples,8} {"",9} {allExamples / allFirst,17:N0} {allExamples / allSecond,21:N0}");
    }
}
