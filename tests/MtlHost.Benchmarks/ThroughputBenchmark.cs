using System.Diagnostics;
using MtlHost.Abstractions;
using MtlHost.Core.Data;
using MtlHost.Core.Training;
using static TorchSharp.torch;
using static MtlHost.Benchmarks.Rounds;

namespace MtlHost.Benchmarks;

/// <summary>
/// Training throughput on the six sample tasks' real training data: examples/s of forward+backward through the encoder
/// and each task's own head and loss, for the same examples batched three ways in the same run — (a) every batch padded
/// to the maximum length (the reference recipe), (b) dynamic padding (each batch to its longest example, what the host
/// does), (c) dynamic padding with length windows (<see cref="LengthWindows"/>, <c>--length-window</c>). The batches of (b)
/// and (c) are the ones the host's own batch order draws (<see cref="TaskRuntime.NextTrainBatch"/>); (a) re-pads (b)'s.
/// The optimizer step is left out: it costs the same for every batch, whatever its length.
/// </summary>
public static class ThroughputBenchmark
{
    private enum Mode
    {
        FixedLength,
        Dynamic,
        LengthWindows,
    }

    private static readonly string[] Names = ["(a) padded to max length", "(b) dynamic padding", "(c) dynamic + length windows"];

    private sealed record Batch(TaskRuntime Task, TaskBatch Tensors, IReadOnlyList<int> Examples);

    /// <summary>Runs the benchmark and prints every round and the median of the per-round ratios to (a).</summary>
    /// <param name="setup">Encoder and plugins.</param>
    /// <param name="lengthWindow">Batches per length window in (c).</param>
    /// <param name="windowsPerTask">Windows of examples per task: each task contributes this many × window × batch examples.</param>
    /// <param name="rounds">Rounds; each measures all three, in a rotating order so that drift hits all alike.</param>
    public static void Run(BenchmarkSetup setup, int lengthWindow, int windowsPerTask, int rounds)
    {
        var options = new TrainingOptions { BatchSize = 16, MaxLength = 128, Seed = 42 };
        var plain = setup.CreateRuntimes(options);
        var grouped = setup.CreateRuntimes(options with { LengthWindow = lengthWindow });
        using var encoder = setup.CreateEncoder(42);
        encoder.train();
        try
        {
            var batchesPerTask = windowsPerTask * lengthWindow;
            var modes = new Dictionary<Mode, List<Batch>>
            {
                [Mode.Dynamic] = Draw(plain, batchesPerTask, options.BatchSize, setup.Tokenizer.PadId),
                [Mode.LengthWindows] = Draw(grouped, batchesPerTask, options.BatchSize, setup.Tokenizer.PadId),
            };
            modes[Mode.FixedLength] = modes[Mode.Dynamic]
                .Select(b => b with { Tensors = PadTo(b.Tensors, options.MaxLength, setup.Tokenizer.PadId, b.Task.Descriptor.Kind) }).ToList();
            foreach (var task in plain.Concat(grouped))
            {
                task.Head.train();
            }

            // The same examples on every side: (c) only regroups within windows of the same shuffle.
            var same = plain.Select(t => t.Id).All(id => Examples(modes[Mode.Dynamic], id).SequenceEqual(Examples(modes[Mode.LengthWindows], id)));
            var examples = modes[Mode.Dynamic].Sum(b => b.Examples.Count);
            Console.WriteLine();
            Console.WriteLine($"training throughput, {setup.EncoderName} encoder, forward+backward (encoder + each task's head and loss, no optimizer step), " +
                              $"batch {options.BatchSize}, max length {options.MaxLength}, {plain.Count} tasks x {batchesPerTask} batches = {examples} examples " +
                              $"of their real training data, length windows of {lengthWindow} batches; same examples in all three: {(same ? "yes" : "NO")}");
            foreach (var task in plain)
            {
                var lengths = modes[Mode.Dynamic].Where(b => b.Task == task).SelectMany(b => b.Examples.Select(i => task.Train[i].InputIds.Length)).ToList();
                Console.WriteLine($"  {task.Id,-13} {task.Train.Count,7} training examples; these: mean {lengths.Average(),5:F1} tokens, max {lengths.Max(),3}");
            }
            foreach (var mode in Enum.GetValues<Mode>())
            {
                var batches = modes[mode];
                var padded = batches.Sum(b => b.Tensors.InputIds.numel());
                var real = batches.Sum(b => b.Tensors.TokenCount);
                Console.WriteLine($"  {Names[(int)mode],-30} {padded,9:N0} token positions, {100.0 * real / padded,5:F1}% real tokens");
            }

            // Warm-up: one batch of every task in every mode (first-use costs, allocator growth).
            foreach (var mode in Enum.GetValues<Mode>())
            {
                Time(encoder, modes[mode].DistinctBy(b => b.Task.Id).ToList());
            }

            var rates = Enum.GetValues<Mode>().ToDictionary(m => m, _ => new List<double>());
            for (var round = 0; round < rounds; round++)
            {
                var order = Enum.GetValues<Mode>().Select((m, i) => Enum.GetValues<Mode>()[(i + round) % 3]).ToList();
                foreach (var mode in order)
                {
                    rates[mode].Add(examples / Time(encoder, modes[mode]));
                }
                Console.WriteLine($"  round {round + 1} (order {string.Join(", ", order.Select(m => "abc"[(int)m]))}): " +
                                  string.Join("  ", Enum.GetValues<Mode>().Select(m => $"{"abc"[(int)m]} {rates[m][^1],7:F1} ex/s")) +
                                  $"   b/a {rates[Mode.Dynamic][^1] / rates[Mode.FixedLength][^1]:F2}x  c/a {rates[Mode.LengthWindows][^1] / rates[Mode.FixedLength][^1]:F2}x");
            }
            foreach (var mode in Enum.GetValues<Mode>())
            {
                var ratios = rates[mode].Zip(rates[Mode.FixedLength], (r, a) => r / a).ToList();
                Console.WriteLine($"  {Names[(int)mode],-30} median {Median(rates[mode]),7:F1} examples/s   vs (a): median of per-round ratios {Median(ratios):F2}x" +
                                  (mode == Mode.LengthWindows ? " (target >= 3x)" : ""));
            }
            foreach (var batch in modes.Values.SelectMany(b => b))
            {
                batch.Tensors.Dispose();
            }
        }
        finally
        {
            foreach (var task in plain.Concat(grouped))
            {
                task.Dispose();
            }
        }
    }

    // Batches drawn from each task's own batch order, task after task in turn (as a joint run interleaves them).
    private static List<Batch> Draw(List<TaskRuntime> tasks, int batchesPerTask, int batchSize, int padId)
    {
        var batches = new List<Batch>();
        for (var i = 0; i < batchesPerTask; i++)
        {
            foreach (var task in tasks)
            {
                var tensors = task.NextTrainBatch(batchSize, padId, CPU);
                batches.Add(new Batch(task, tensors, task.LastTrainBatch));
            }
        }
        return batches;
    }

    private static IEnumerable<int> Examples(List<Batch> batches, string taskId) =>
        batches.Where(b => b.Task.Id == taskId).SelectMany(b => b.Examples).Order();

    // The reference recipe: every batch as long as the longest allowed input. Padding is [PAD] ids, segment 0, mask 0, and
    // the ignore index for per-token targets, exactly what dynamic padding puts after a shorter example.
    private static TaskBatch PadTo(TaskBatch batch, int length, int padId, TaskKind kind)
    {
        var extra = length - batch.InputIds.shape[1];
        Tensor Pad(Tensor t, double value) => nn.functional.pad(t, [0, extra], value: value);
        return new TaskBatch(Pad(batch.InputIds, padId), Pad(batch.TokenTypeIds, 0), Pad(batch.AttentionMask, 0),
            kind == TaskKind.TokenClassification ? Pad(batch.Targets, TaskTargets.IgnoreIndex) : batch.Targets.clone())
        {
            TokenCount = batch.TokenCount,
        };
    }

    private static double Time(MtlHost.Core.Encoders.BertEncoder encoder, List<Batch> batches)
    {
        var clock = Stopwatch.StartNew();
        foreach (var batch in batches)
        {
            using var scope = NewDisposeScope();
            var hidden = encoder.forward(batch.Tensors.InputIds, batch.Tensors.TokenTypeIds, batch.Tensors.AttentionMask);
            var outputs = batch.Task.Head.forward(hidden, batch.Tensors.AttentionMask);
            batch.Task.Loss.Compute(outputs, batch.Tensors.Targets).backward();
            encoder.zero_grad();
            batch.Task.Head.zero_grad();
        }
        return clock.Elapsed.TotalSeconds;
    }
}
