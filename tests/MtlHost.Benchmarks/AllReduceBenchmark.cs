using System.Diagnostics;
using System.Globalization;
using MtlHost.Core.Distributed;
using MtlHost.Core.Encoders;
using static TorchSharp.torch;
using static MtlHost.Benchmarks.Rounds;

namespace MtlHost.Benchmarks;

/// <summary>
/// Averaging MiniLM's gradients over the ranks of an mpirun (<c>mpirun -np 2 dotnet MtlHost.Benchmarks.dll allreduce</c>):
/// <see cref="GradientBuckets.AverageGradients"/> (copy in, one all-reduce per 25 MiB bucket, divide, copy out); with
/// gradients of 1 MiB or more reduced in place and the rest in buckets, averaged, and summed as the trainer does (every
/// rank's gradient being its share, <see cref="GradientBuckets.SumGradients"/>: no division pass); against,
/// in the same run on the same number of bytes, one raw <c>MPI_Allreduce</c> of all of them, and raw all-reduces cut
/// into 25 MiB and into 48 MiB pieces (either side of glibc's 32 MiB mmap threshold). Rounds alternate the six so that
/// drift in the machine's speed hits all alike; every round is printed, with rank 0's minor page faults, which show
/// whether Open MPI's per-call temporary buffer came as fresh pages.
/// </summary>
public static class AllReduceBenchmark
{
    /// <summary>Runs the benchmark; rank 0 prints.</summary>
    /// <param name="rounds">Timed rounds (after one warm-up round).</param>
    /// <param name="bucketMiB">The buckets' size in MiB.</param>
    /// <returns>The exit code: 2 when not started by mpirun for two or more ranks.</returns>
    public static int Run(int rounds, double bucketMiB)
    {
        using var group = ProcessGroups.Detect();
        if (group.Size < 2)
        {
            Console.Error.WriteLine("allreduce needs two or more ranks: build Release, then " +
                                    "mpirun --allow-run-as-root -np 2 dotnet tests/MtlHost.Benchmarks/bin/Release/net10.0/MtlHost.Benchmarks.dll allreduce");
            return 2;
        }
        Console.WriteLine($"rank {group.Rank}: CPUs allowed {CpusAllowed()}, TorchSharp threads {get_num_threads()}");

        // The real encoder's parameters, with a random gradient each (rank-dependent, so that the sums are real sums). Each
        // way of bucketing gets its own copy: a bucketed gradient becomes a view into its instance's bucket, and two
        // instances over the same parameters would take the views from each other every round, copying each time.
        using var encoder = EncoderCatalog.Create(EncoderCatalog.MiniLmRandom, seed: 1);
        using var trainersEncoder = EncoderCatalog.Create(EncoderCatalog.MiniLmRandom, seed: 1);
        var parameters = encoder.parameters().ToList();
        var trainersParameters = trainersEncoder.parameters().ToList();
        manual_seed(100 + group.Rank);
        foreach (var (parameter, twin) in parameters.Zip(trainersParameters))
        {
            using var grad = randn_like(parameter);
            parameter.grad = grad;
            using var copy = grad.clone();
            twin.grad = copy;
        }
        var bucketBytes = (long)(bucketMiB * 1024 * 1024) / sizeof(float) * sizeof(float);
        using var buckets = new GradientBuckets(group, parameters, bucketBytes);
        // What the trainer uses: gradients of 1 MiB or more reduced where they lie, the rest through buckets (the mean and
        // the sum take turns on the same instance, each in its steady state).
        using var inPlace = new GradientBuckets(group, trainersParameters, bucketBytes, inPlaceBytes: 1L << 20);
        var raw = GC.AllocateArray<float>(checked((int)buckets.ElementCount), pinned: true);
        new Random(group.Rank).NextBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(raw.AsSpan()));
        for (var i = 0; i < raw.Length; i++)
        {
            // Finite values: random bytes can be NaN, whose arithmetic may take another path.
            raw[i] = float.IsFinite(raw[i]) ? raw[i] % 1f : 0f;
        }
        var totalBytes = buckets.ElementCount * sizeof(float);
        const long Chunk25 = 25L * 1024 * 1024, Chunk48 = 48L * 1024 * 1024;

        var variants = new (string Name, Action Run)[]
        {
            ($"GradientBuckets ({buckets.Buckets.Count} x <= {bucketBytes / 1048576.0:0.#} MiB)", buckets.AverageGradients),
            ($"{inPlace.InPlaceCount} in place + {inPlace.Buckets.Count} bucket(s), mean", inPlace.AverageGradients),
            ($"{inPlace.InPlaceCount} in place + {inPlace.Buckets.Count} bucket(s), sum (trainer)", inPlace.SumGradients),
            ("raw MPI_Allreduce, one call", () => group.AllReduceSum(raw.AsSpan())),
            ($"raw, {Math.Ceiling(totalBytes / (double)Chunk25):0} calls of <= 25 MiB", () => Chunked(group, raw, Chunk25)),
            ($"raw, {Math.Ceiling(totalBytes / (double)Chunk48):0} calls of <= 48 MiB", () => Chunked(group, raw, Chunk48)),
        };
        if (group.IsRoot)
        {
            Console.WriteLine();
            Console.WriteLine($"all-reduce of MiniLM's gradients: {parameters.Count} parameters, {buckets.ElementCount:N0} float32 = {totalBytes / 1e6:F1} MB, " +
                              $"{group.Size} ranks{(group is MpiProcessGroup mpi ? $" (MPI thread level {mpi.ThreadLevel}, {mpi.ProcessorName})" : "")}, " +
                              $"{rounds} rounds after 1 warm-up; rank 0's time per call and minor page faults:");
        }
        var times = variants.Select(_ => new List<double>()).ToArray();
        for (var round = 0; round <= rounds; round++)
        {
            var line = new List<string>();
            for (var v = 0; v < variants.Length; v++)
            {
                // Every rank enters together, so the time is the collective's, not a late rank's.
                group.Barrier();
                var faults = MinorFaults();
                var clock = Stopwatch.StartNew();
                variants[v].Run();
                var seconds = clock.Elapsed.TotalSeconds;
                faults = MinorFaults() - faults;
                if (round > 0)
                {
                    times[v].Add(seconds);
                }
                line.Add($"{1000 * seconds,8:F1} ms {faults,7:N0} faults");
            }
            if (group.IsRoot)
            {
                Console.WriteLine($"  {(round == 0 ? "warm-up" : $"round {round}"),-8} " + string.Join(" | ", line));
            }
        }
        if (group.IsRoot)
        {
            var raw25 = Median(times[4]);
            var rawMedian = Median(times[3]);
            Console.WriteLine("  columns: " + string.Join(" | ", variants.Select(v => v.Name)));
            Console.WriteLine();
            Console.WriteLine("median over rounds (bandwidth = bytes reduced / time; the last column: bandwidth over the raw 25 MiB calls' bandwidth):");
            for (var v = 0; v < variants.Length; v++)
            {
                var median = Median(times[v]);
                Console.WriteLine($"  {variants[v].Name,-40} {1000 * median,8:F1} ms  {totalBytes / median / 1e9,6:F2} GB/s  time {median / rawMedian,6:F3}x raw one call" +
                                  $"  {median / raw25,6:F3}x raw 25 MiB calls  bandwidth {raw25 / median,6:F3}x");
            }
        }
        group.Barrier();
        return 0;
    }

    private static void Chunked(IProcessGroup group, float[] values, long chunkBytes)
    {
        var chunk = (int)(chunkBytes / sizeof(float));
        for (var offset = 0; offset < values.Length; offset += chunk)
        {
            group.AllReduceSum(values.AsSpan(offset, Math.Min(chunk, values.Length - offset)));
        }
    }

    // Field 10 of /proc/self/stat, counted after the parenthesised command name (which may hold spaces).
    private static long MinorFaults()
    {
        var stat = File.ReadAllText("/proc/self/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[7], CultureInfo.InvariantCulture);
    }

    private static string CpusAllowed() =>
        File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal))?.Split(':')[1].Trim() ?? "?";
}
