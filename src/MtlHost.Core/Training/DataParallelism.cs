using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using MtlHost.Core.Distributed;
using MtlHost.Core.Weighting;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MtlHost.Core.Training;

/// <summary>
/// How a <see cref="JointTrainer"/> trains as one of several processes: its group, its gradient buckets, the averaging
/// of gradient-based weightings' task gradients, and the decisions every process must take alike.
/// </summary>
/// <remarks>
/// Every weighting trains across processes: the loss-based ones (EW, DWA, RLW, UW, FAMO) weigh the averaged losses, so
/// every process computes the same weights and learns the same state; the gradient-based ones (GradNorm, PCGrad, MGDA,
/// CAGrad) see each task's gradient averaged over the processes (<see cref="Sum"/> of the shares) before their algebra.
/// </remarks>
internal sealed class DataParallelism : ITaskGradientAveraging, IDisposable
{
    private readonly Func<IReadOnlyList<Parameter>> _parameters;
    private readonly long _bucketBytes;
    // A gradient of 1 MiB or more is all-reduced where it lies: most of an encoder's bytes, in a few dozen calls.
    private const long InPlaceBytes = 1L << 20;
    private GradientBuckets? _buckets;
    private readonly Stopwatch _communication = new();
    private readonly Stopwatch _averaging = new();

    /// <summary>Creates the buckets for the trainer's parameters now (a collective).</summary>
    /// <param name="group">The processes.</param>
    /// <param name="parameters">The trainer's trainable parameters as they are now, in the order every process shares.</param>
    /// <param name="bucketBytes">Largest message of the gradient averaging.</param>
    public DataParallelism(IProcessGroup group, Func<IReadOnlyList<Parameter>> parameters, long bucketBytes)
    {
        Group = group;
        _parameters = parameters;
        _bucketBytes = bucketBytes;
        _buckets = new GradientBuckets(group, parameters(), bucketBytes, InPlaceBytes);
    }

    /// <summary>The processes.</summary>
    public IProcessGroup Group { get; }

    /// <summary>
    /// Averages the gradients of every trainable parameter; made again, on every process alike, at its first use after
    /// the trainer's parameters changed (a task added, replaced or removed between two steps on every process).
    /// </summary>
    public GradientBuckets Buckets => _buckets ??= new GradientBuckets(Group, _parameters(), _bucketBytes, InPlaceBytes);

    /// <summary>Time spent in collectives of training steps (waiting for the other processes included).</summary>
    public TimeSpan CommunicationTime => _communication.Elapsed;

    /// <summary>
    /// Time spent averaging the gradients in the buckets (a part of <see cref="CommunicationTime"/>): the step's previous
    /// collective has already waited for the slowest process, so this is the transfer and its copies.
    /// </summary>
    public TimeSpan GradientAveragingTime => _averaging.Elapsed;

    /// <summary>Lets the buckets go: the trainer's parameters changed.</summary>
    public void ParametersChanged() => Dispose();

    /// <summary>Frees the buckets (made again at their next use).</summary>
    public void Dispose()
    {
        _buckets?.Dispose();
        _buckets = null;
    }

    /// <inheritdoc />
    public int ProcessCount => Group.Size;

    /// <summary>
    /// Sums every gradient over the processes (a collective): their mean, since each process computed its share from
    /// losses scaled by 1/<see cref="ProcessCount"/> (see <see cref="WeightingStep"/>).
    /// </summary>
    public void SumGradients()
    {
        _averaging.Start();
        try
        {
            Timed(() => Buckets.SumGradients());
        }
        finally
        {
            _averaging.Stop();
        }
    }

    /// <summary>The mean over the processes of each of a step's losses (a collective).</summary>
    /// <param name="values">This process's losses.</param>
    /// <returns>The means.</returns>
    public double[] ReduceLosses(double[] values)
    {
        double[] result = [];
        Timed(() => result = Group.ReduceScalars(values));
        return result;
    }

    /// <summary>The failures every process takes, from each process's own (see <see cref="ProcessGroupAgreement.AgreeOnFailures"/>).</summary>
    /// <param name="failures">This process's reason per task, or <see langword="null"/> where the task worked.</param>
    /// <returns>The same on every process.</returns>
    public string?[] Agree(IReadOnlyList<string?> failures)
    {
        string?[] result = [];
        Timed(() => result = Group.AgreeOnFailures(failures));
        return result;
    }

    /// <summary>
    /// Whether the step's backward pass failed on any process (a collective: every process calls it exactly once per step
    /// with trained tasks, whether its own pass worked or not), so that every process then takes the same path.
    /// </summary>
    /// <param name="failedHere">Whether it failed on this process.</param>
    /// <returns>The same on every process.</returns>
    public bool AnyBackwardFailed(bool failedHere)
    {
        var anyFailed = false;
        Timed(() => anyFailed = Group.AnyRank(failedHere));
        return anyFailed;
    }

    /// <inheritdoc />
    public void Sum(Tensor rows)
    {
        if (rows.dtype != ScalarType.Float32 || rows.device_type != DeviceType.CPU || !rows.is_contiguous())
        {
            throw new ArgumentException($"Task gradients to sum must be a contiguous float32 CPU tensor, not {rows.dtype} on {rows.device_type}.", nameof(rows));
        }
        var anyFailed = false;
        Timed(() =>
        {
            anyFailed = Group.AnyRank(false);
            if (anyFailed)
            {
                return;
            }
            // In pieces of at most a bucket: Open MPI's temporary buffer of a larger call would be fresh pages every step.
            var floats = MemoryMarshal.Cast<byte, float>(rows.bytes);
            var piece = (int)Math.Max(1, Math.Min(_bucketBytes / sizeof(float), int.MaxValue));
            for (var start = 0; start < floats.Length; start += piece)
            {
                Group.AllReduceSum(floats.Slice(start, Math.Min(piece, floats.Length - start)));
            }
        });
        if (anyFailed)
        {
            throw new FailedOnAnotherRankException("Computing the task gradients");
        }
    }

    /// <inheritdoc />
    [DoesNotReturn]
    public void Fail(Exception failure)
    {
        Timed(() => Group.AnyRank(true));
        ExceptionDispatchInfo.Capture(failure).Throw();
        throw failure;
    }

    private void Timed(Action collective)
    {
        _communication.Start();
        try
        {
            collective();
        }
        finally
        {
            _communication.Stop();
        }
    }

}
