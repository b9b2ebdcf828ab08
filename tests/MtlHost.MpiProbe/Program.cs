using System.Globalization;
using System.Text;
using MtlHost.Core.Distributed;
using TorchSharp;
using static TorchSharp.torch;

// Started by the MPI tests as `mpirun -np N dotnet MtlHost.MpiProbe.dll <scenario>`. Each rank runs the scenario and
// checks what arrived against what it can compute itself (every rank's inputs are a function of its rank). It prints
// one "ok" line per rank, or every mismatch to standard error and exits 1.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
var scenario = args.FirstOrDefault() ?? "";
var failures = new List<string>();
using var group = ProcessGroups.Detect();
var expectedSize = int.Parse(Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE") ?? "1", CultureInfo.InvariantCulture);
Check(group.Size == expectedSize, $"size {group.Size}, mpirun started {expectedSize}");
Check(expectedSize == 1 || group is MpiProcessGroup, $"expected an MpiProcessGroup, got {group.GetType().Name}");

switch (scenario)
{
    case "collectives":
        Collectives();
        break;
    case "buckets":
        Buckets(inPlaceBytes: null);
        break;
    case "buckets-in-place":
        // Parameters of 1 KiB or more reduced where they lie; the rest through the buckets.
        Buckets(inPlaceBytes: 1024);
        break;
    case "mismatch":
        Mismatch();
        break;
    case "abort":
        Abort(useAbort: true);
        break;
    case "crash":
        Abort(useAbort: false);
        break;
    default:
        Console.Error.WriteLine($"unknown scenario '{scenario}'; use collectives, buckets, mismatch, abort or crash");
        return 2;
}

if (failures.Count > 0)
{
    foreach (var failure in failures)
    {
        Console.Error.WriteLine($"rank {group.Rank}/{group.Size} {scenario} MISMATCH: {failure}");
    }
    return 1;
}
Console.WriteLine($"rank {group.Rank}/{group.Size} {scenario} ok" +
                  (group is MpiProcessGroup mpi ? $" (thread level {mpi.ThreadLevel}, on {mpi.ProcessorName})" : ""));
return 0;

void Check(bool condition, string what)
{
    if (!condition)
    {
        failures.Add(what);
    }
}

void Collectives()
{
    // .NET turns SIGSEGV into NullReferenceException; an MPI that replaced that signal handler would crash here.
    try
    {
        string? nothing = Environment.GetEnvironmentVariable("MTLHOST_PROBE_UNSET_" + Guid.NewGuid().ToString("N"));
        _ = nothing!.Length;
        Check(false, "no NullReferenceException");
    }
    catch (NullReferenceException)
    {
    }

    var rankSum = group.Size * (group.Size + 1) / 2; // sum over ranks of (rank + 1)
    var floats = Enumerable.Range(0, 1007).Select(i => (float)((group.Rank + 1) * (i % 13))).ToArray();
    group.AllReduceSum(floats.AsSpan());
    Check(floats.Select((v, i) => v == rankSum * (i % 13)).All(x => x), $"float sums: {string.Join(",", floats.Take(5))}…");

    var doubles = Enumerable.Range(0, 515).Select(i => group.Rank * 0.25 + i).ToArray();
    group.AllReduceSum(doubles.AsSpan());
    var rankTotal = group.Size * (group.Size - 1) / 2;
    Check(doubles.Select((v, i) => Math.Abs(v - (rankTotal * 0.25 + group.Size * i)) < 1e-9).All(x => x), $"double sums: {string.Join(",", doubles.Take(5))}…");

    // A root other than 0.
    var root = group.Size - 1;
    var bytes = new byte[4099];
    if (group.Rank == root)
    {
        for (var i = 0; i < bytes.Length; i++)
        {
            bytes[i] = (byte)(i * 7 + 3);
        }
    }
    group.Broadcast(bytes.AsSpan(), root);
    Check(bytes.Select((b, i) => b == (byte)(i * 7 + 3)).All(x => x), "broadcast span from the last rank");

    var payload = group.IsRoot ? Enumerable.Range(0, 100_003).Select(i => (byte)(i % 251)).ToArray() : null;
    var received = group.BroadcastBytes(payload);
    Check(received.Length == 100_003 && received.Select((b, i) => b == (byte)(i % 251)).All(x => x), $"broadcast of unknown length: {received.Length} bytes");

    var text = group.BroadcastString(group.IsRoot ? "héllo from rank 0 ✓ " + new string('x', 1000) : null);
    Check(text == "héllo from rank 0 ✓ " + new string('x', 1000), $"broadcast string: '{text[..Math.Min(30, text.Length)]}…'");
    var empty = group.BroadcastString(group.IsRoot ? "" : null);
    Check(empty.Length == 0, "broadcast of an empty string");

    var means = group.ReduceScalars([group.Rank, 2.0 * group.Rank + 1]);
    var meanRank = (group.Size - 1) / 2.0;
    Check(Math.Abs(means[0] - meanRank) < 1e-12 && Math.Abs(means[1] - (2 * meanRank + 1)) < 1e-12, $"reduced scalars {means[0]}, {means[1]}");

    group.Barrier();
}

void Buckets(long? inPlaceBytes)
{
    // Bucket of 1 KiB (256 floats): the 1000-element parameter spans four buckets, others straddle bucket ends, one is empty.
    long[][] shapes = [[3, 5], [1000], [7], [0], [64, 33], [2], [300]];
    // With in-place parameters, one of them (300 floats) is the one only rank 0 has a gradient for.
    var onlyOnRank0 = inPlaceBytes is null ? 2 : 6;
    const int OnNoRank = 5;
    var parameters = shapes.Select(s => new TorchSharp.Modules.Parameter(zeros(s))).ToList();
    // What rank r's gradient of parameter p holds at flat index j; small integers and halves, exact in float32.
    float Grad(int r, int p, long j) => (r + 1) * ((j % 17) + 1) * (p + 1) * 0.5f;
    for (var p = 0; p < parameters.Count; p++)
    {
        if (p == OnNoRank || (p == onlyOnRank0 && group.Rank != 0))
        {
            continue;
        }
        var values = Enumerable.Range(0, (int)parameters[p].numel()).Select(j => Grad(group.Rank, p, j)).ToArray();
        using var grad = tensor(values).reshape(shapes[p]);
        parameters[p].grad = grad;
    }

    var buckets = new GradientBuckets(group, parameters, bucketBytes: 1024, inPlaceBytes);
    var inPlaceElements = parameters.Where(p => inPlaceBytes is { } least && p.numel() * 4 >= least).Sum(p => p.numel());
    Check(buckets.Buckets.All(b => b.Length <= 256) && buckets.Buckets.Sum(b => b.Length) == buckets.ElementCount - inPlaceElements, "bucket plan");
    Check(buckets.InPlaceCount == (inPlaceBytes is null ? 0 : 3), $"{buckets.InPlaceCount} parameters in place");
    buckets.AverageGradients();

    for (var p = 0; p < parameters.Count; p++)
    {
        using var grad = parameters[p].grad;
        if (p == OnNoRank)
        {
            Check(grad is null, $"parameter {p} had a gradient on no rank and got one");
            continue;
        }
        if (grad is null)
        {
            Check(false, $"parameter {p} has no gradient after averaging");
            continue;
        }
        var actual = grad.data<float>().ToArray();
        for (long j = 0; j < actual.Length; j++)
        {
            var expected = p == onlyOnRank0
                ? Grad(0, p, j) / group.Size
                : Enumerable.Range(0, group.Size).Sum(r => Grad(r, p, j)) / group.Size;
            if (Math.Abs(actual[j] - expected) > 1e-5f * Math.Abs(expected))
            {
                Check(false, $"parameter {p}[{j}] = {actual[j]}, expected {expected}");
                break;
            }
        }
    }
    Check(buckets.UnevenGradientCount == (group.Size > 1 ? 1 : 0), $"uneven gradients {buckets.UnevenGradientCount}");
    var present = Enumerable.Range(0, parameters.Count).Where(p => p != OnNoRank).ToHashSet();
    var expectedReduced = group.Size == 1 ? 0 : buckets.Buckets.Count(b => b.Segments.Any(s => present.Contains(s.Tensor)));
    Check(buckets.ReducedBucketCount == expectedReduced, $"reduced {buckets.ReducedBucketCount} buckets, expected {expectedReduced}");

    // Every rank starts from other weights and an int64 buffer; after the broadcast all hold rank 0's.
    using var buffer = arange(5, dtype: ScalarType.Int64) + 10L * group.Rank;
    using (no_grad())
    {
        foreach (var parameter in parameters)
        {
            parameter.copy_(arange(parameter.numel(), dtype: ScalarType.Float32).reshape(parameter.shape) + 1000f * group.Rank);
        }
    }
    buckets.BroadcastParameters([.. parameters, buffer]);
    foreach (var parameter in parameters)
    {
        var values = parameter.data<float>().ToArray();
        Check(values.Select((v, j) => v == j).All(x => x), $"broadcast parameter {string.Join("x", parameter.shape)}: {string.Join(",", values.Take(4))}…");
    }
    Check(buffer.data<long>().ToArray().SequenceEqual([0L, 1, 2, 3, 4]), "broadcast int64 buffer");
}

void Mismatch()
{
    // Rank 1 built another model: every rank must learn it from the constructor, none may hang.
    long[][] shapes = group.Rank == 1 ? [[10], [21]] : [[10], [20]];
    var parameters = shapes.Select(s => new TorchSharp.Modules.Parameter(zeros(s))).ToList();
    try
    {
        _ = new GradientBuckets(group, parameters);
        Check(false, "no exception for parameters that differ between ranks");
    }
    catch (InvalidOperationException e)
    {
        Console.WriteLine($"rank {group.Rank}: {e.Message}");
        Check(e.Message.Contains("differ between ranks", StringComparison.Ordinal), $"message: {e.Message}");
    }
}

void Abort(bool useAbort)
{
    // Rank 1 fails while rank 0 waits for it in an all-reduce that can never complete.
    if (group.Rank == 1)
    {
        Thread.Sleep(500);
        if (!useAbort)
        {
            throw new InvalidOperationException("rank 1 fails and nothing catches it");
        }
        try
        {
            throw new InvalidOperationException("rank 1 fails");
        }
        catch (InvalidOperationException e)
        {
            Console.Error.WriteLine($"rank 1: {e.Message}; aborting the run");
            group.Abort(3);
        }
    }
    var values = new float[16];
    group.AllReduceSum(values.AsSpan());
    Check(false, "the all-reduce returned although rank 1 never joined it");
}
