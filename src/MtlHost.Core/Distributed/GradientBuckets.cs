using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace MtlHost.Core.Distributed;

/// <summary>
/// Averages the gradients of a fixed, ordered list of float32 CPU parameters over the ranks of a process group, in
/// preallocated flat buckets of at most <see cref="BucketBytes"/> each; and broadcasts weights from one rank to all.
/// </summary>
/// <remarks>
/// <para>
/// Why buckets: one MPI call per parameter would pay MPI's latency some two hundred times a step; one call for all
/// ~91 MB of MiniLM's gradients makes Open MPI allocate a temporary buffer of that size per call, above glibc's mmap
/// threshold (at most 32 MiB), so fresh zeroed pages every step (the allreduce benchmark: 11,091 page faults a call and
/// twice the time of the same bytes in 25 MiB calls on a busy machine; ten times, measured earlier on a quiet one).
/// Buckets of 25 MiB stay below it (no page faults after the first step) and need four calls. Parameters are laid
/// end to end and the stream is cut every <see cref="BucketBytes"/>: a parameter larger than a bucket (MiniLM's 47 MB
/// word embeddings) or one at a bucket's end is split across buckets, so no call is ever larger than a bucket and every
/// bucket but the last is full.
/// </para>
/// <para>
/// Constructing it and every method are collectives: every rank makes it at the same point, from the same parameters in
/// the same order (the constructor checks that the shapes agree, and throws on every rank if not). A parameter list that
/// changes (a head added or replaced by hot reload) needs a new instance, made by every rank.
/// </para>
/// <para>
/// A parameter whose gradient lies wholly in one bucket gets, after its first reduction, a <c>grad</c> that is a view into
/// that bucket (what PyTorch's DDP calls <c>gradient_as_bucket_view</c>): the optimizers zero gradients in place and
/// autograd accumulates into an existing gradient in place, so the next backward pass writes straight into the bucket
/// and the reduction copies nothing. A gradient tensor that something replaced is copied in once and bound again; one
/// split across two buckets is copied in and out each time. A parameter of at least <see cref="InPlaceBytes"/> (when
/// set) skips the buckets: its gradient is all-reduced where it lies, in pieces of at most a bucket; only the many small
/// parameters are packed, to keep the number of calls down.
/// </para>
/// </remarks>
public sealed class GradientBuckets : IDisposable
{
    /// <summary>Default <see cref="BucketBytes"/>: 25 MiB, below glibc's largest mmap threshold (32 MiB).</summary>
    public const long DefaultBucketBytes = 25L * 1024 * 1024;

    private readonly IProcessGroup _group;
    private readonly Tensor[] _parameters;
    // Torch tensors, so that a parameter's grad can be a view into its bucket.
    private readonly Tensor[] _buckets;
    private readonly float[] _presence;
    private readonly int[] _inPlace;

    /// <summary>Plans and allocates the buckets for <paramref name="parameters"/>. A collective.</summary>
    /// <param name="group">The ranks to average over.</param>
    /// <param name="parameters">The parameters, in an order every rank shares: float32, on the CPU, contiguous.</param>
    /// <param name="bucketBytes">The most bytes one bucket (one MPI call) holds; at least 4.</param>
    /// <param name="inPlaceBytes">
    /// Parameters of at least this many bytes are reduced in place rather than through the buckets (see
    /// <see cref="InPlaceBytes"/>); <see langword="null"/> packs every parameter into the buckets.
    /// </param>
    /// <exception cref="ArgumentException">A parameter is not float32, not on the CPU, or not contiguous.</exception>
    /// <exception cref="InvalidOperationException">The ranks' parameter shapes or bucket sizes differ (thrown on every rank).</exception>
    public GradientBuckets(IProcessGroup group, IEnumerable<Tensor> parameters, long bucketBytes = DefaultBucketBytes, long? inPlaceBytes = null)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentOutOfRangeException.ThrowIfLessThan(bucketBytes, sizeof(float));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bucketBytes / sizeof(float), Array.MaxLength);
        _group = group;
        _parameters = parameters.ToArray();
        BucketBytes = bucketBytes;
        for (var i = 0; i < _parameters.Length; i++)
        {
            var parameter = _parameters[i];
            if (parameter.dtype != ScalarType.Float32 || parameter.device_type != DeviceType.CPU || !parameter.is_contiguous())
            {
                throw new ArgumentException(
                    $"Parameter {i} ({string.Join("x", parameter.shape)}, {parameter.dtype}, {parameter.device_type}) is not a contiguous float32 CPU tensor; " +
                    "the gradient buckets hold float32 on the CPU.", nameof(parameters));
            }
            if (parameter.numel() * sizeof(float) > int.MaxValue)
            {
                // TorchSharp's bytes span, through which the grads are read and written, is limited to int.MaxValue bytes.
                throw new ArgumentException($"Parameter {i} has {parameter.numel()} elements: more than 2 GB.", nameof(parameters));
            }
        }
        var sizes = _parameters.Select(p => p.numel()).ToArray();
        ElementCount = sizes.Sum();
        InPlaceBytes = inPlaceBytes;
        _inPlace = Enumerable.Range(0, sizes.Length).Where(i => inPlaceBytes is { } least && sizes[i] * sizeof(float) >= least).ToArray();
        // A parameter reduced in place takes no place in the buckets.
        Buckets = Plan(sizes.Select((size, i) => _inPlace.Contains(i) ? 0 : size).ToArray(), (int)(bucketBytes / sizeof(float)));
        VerifySameOnEveryRank(group, "gradient buckets", sizes.Length, ElementCount,
            Fingerprint(_parameters.Select(p => (p.dtype, p.shape)), bucketBytes + 31 * (inPlaceBytes ?? -1)));
        // Allocated once (libtorch's memory does not move, so MPI gets a stable address), uninitialized since every use
        // overwrites all of it; owned by this instance, not by a dispose scope the caller may be in (the trainer makes
        // the buckets anew inside a step after hot reload). A process that trains alone never reduces: nothing allocated.
        _buckets = group.Size == 1 ? [] : Buckets.Select(b => empty(b.Length, ScalarType.Float32).DetachFromDisposeScope()).ToArray();
        _presence = new float[_parameters.Length];
    }

    /// <summary>The most bytes one bucket holds, and so one MPI call sends.</summary>
    public long BucketBytes { get; }

    /// <summary>
    /// The size from which a parameter's gradient is all-reduced in place, without copies, rather than packed into a
    /// bucket; <see langword="null"/> when every parameter goes through the buckets.
    /// </summary>
    public long? InPlaceBytes { get; }

    /// <summary>How many parameters are reduced in place (see <see cref="InPlaceBytes"/>).</summary>
    public int InPlaceCount => _inPlace.Length;

    /// <summary>The buckets: which parameter elements each holds.</summary>
    public IReadOnlyList<GradientBucketLayout> Buckets { get; }

    /// <summary>How many parameters there are.</summary>
    public int ParameterCount => _parameters.Length;

    /// <summary>How many float32 elements all the parameters have together (4 bytes each).</summary>
    public long ElementCount { get; }

    /// <summary>
    /// How many parameter segments the last <see cref="AverageGradients"/> or <see cref="SumGradients"/> copied into a
    /// bucket: from the second reduction on, 0 unless a parameter is split across two buckets (copied every time) or
    /// something replaced a gradient tensor (copied once).
    /// </summary>
    public int CopiedSegmentCount { get; private set; }

    /// <summary>How many buckets the last <see cref="AverageGradients"/> or <see cref="SumGradients"/> sent (those holding no rank's gradient are skipped).</summary>
    public int ReducedBucketCount { get; private set; }

    /// <summary>
    /// How many parameters had a gradient on some ranks but not on all in the last <see cref="AverageGradients"/> or
    /// <see cref="SumGradients"/>.
    /// Always 0 when every rank trains the same tasks each step, as the host's trainer does; anything else means the
    /// ranks' task sampling diverged.
    /// </summary>
    public int UnevenGradientCount { get; private set; }

    /// <summary>
    /// Replaces every parameter's gradient, on every rank, by its mean over the ranks. A collective; call it after the
    /// backward pass and before clipping and the optimizer step, so that every rank clips and steps alike.
    /// </summary>
    /// <remarks>
    /// A parameter without a gradient (undefined: its task did not run) counts as zeros in the mean, and receives the
    /// mean as a new gradient when another rank had one — the mean over all ranks, as one process with the whole batch
    /// would see it. A parameter with a gradient on no rank is left without one, as PyTorch's DDP leaves it, so that an
    /// optimizer that skips undefined gradients does not step it. In the host every rank trains the same tasks each
    /// step, so the parameters with gradients are the same on every rank (<see cref="UnevenGradientCount"/> is 0), and a
    /// bucket holding only parameters without gradients is not sent at all. Whether a rank has a gradient is learned
    /// from one small extra MPI call of one float per parameter.
    /// </remarks>
    public void AverageGradients() => Reduce(_group.Size);

    /// <summary>
    /// Replaces every parameter's gradient, on every rank, by its sum over the ranks: the mean when every rank's gradient
    /// is its share of it, computed from its losses scaled by 1/<see cref="IProcessGroup.Size"/> (as the trainer does).
    /// A collective, like <see cref="AverageGradients"/>, with the same handling of missing gradients.
    /// </summary>
    /// <remarks>
    /// Why shares: the mean's division is one more pass over every gradient after the transfer, most of it over the
    /// gradients reduced in place (MiniLM: 75 of 91 MB); the allreduce benchmark measured the mean at 26.3 ms where the
    /// sum took 20.1 ms (medians of 11 rounds). Scaling the losses costs nothing: a product with a scalar before the
    /// backward pass.
    /// </remarks>
    public void SumGradients() => Reduce(1);

    // divisor 1 sums; the group's size averages.
    private void Reduce(int divisor)
    {
        if (_group.Size == 1)
        {
            // The mean over one rank is its own gradient.
            ReducedBucketCount = 0;
            UnevenGradientCount = 0;
            CopiedSegmentCount = 0;
            return;
        }
        // Each read of Tensor.grad makes a new managed handle on the same gradient; these are disposed at the end.
        var grads = new Tensor?[_parameters.Length];
        try
        {
            for (var i = 0; i < _parameters.Length; i++)
            {
                grads[i] = _parameters[i].grad;
                _presence[i] = grads[i] is null ? 0 : 1;
            }
            _group.AllReduceSum(_presence);
            UnevenGradientCount = _presence.Count(p => p > 0 && p < _group.Size);

            var reduced = 0;
            var copied = 0;
            for (var b = 0; b < Buckets.Count; b++)
            {
                var layout = Buckets[b];
                // The presence sums are the same on every rank, so every rank skips the same buckets.
                if (layout.Segments.All(s => _presence[s.Tensor] == 0))
                {
                    continue;
                }
                var bucket = Floats(_buckets[b], -1);
                foreach (var segment in layout.Segments)
                {
                    var slice = bucket.Slice(segment.BucketOffset, segment.Count);
                    if (grads[segment.Tensor] is not { } grad)
                    {
                        slice.Clear();
                    }
                    else if (!IsViewOf(grad, slice))
                    {
                        Floats(grad, segment.Tensor).Slice(checked((int)segment.TensorOffset), segment.Count).CopyTo(slice);
                        copied++;
                    }
                }
                _group.AllReduceSum(bucket);
                reduced++;
                if (divisor != 1)
                {
                    Divide(bucket, divisor, bucket);
                }
                foreach (var segment in layout.Segments)
                {
                    if (_presence[segment.Tensor] == 0)
                    {
                        continue;
                    }
                    var parameter = _parameters[segment.Tensor];
                    var slice = bucket.Slice(segment.BucketOffset, segment.Count);
                    if (segment.Count == parameter.numel())
                    {
                        // The whole parameter lies in this bucket: its grad becomes (or stays) a view into it, so the next
                        // backward pass accumulates there and the next reduction copies nothing (PyTorch's DDP calls
                        // this gradient_as_bucket_view). Anything that later replaces the grad tensor only costs a copy.
                        if (grads[segment.Tensor] is not { } grad || !IsViewOf(grad, slice))
                        {
                            grads[segment.Tensor]?.Dispose();
                            grads[segment.Tensor] = BindGrad(parameter, _buckets[b], segment.BucketOffset);
                        }
                    }
                    else
                    {
                        // Split across buckets: copied back piece by piece.
                        var grad = grads[segment.Tensor] ??= CreateGrad(parameter);
                        slice.CopyTo(Floats(grad, segment.Tensor).Slice(checked((int)segment.TensorOffset), segment.Count));
                    }
                }
            }
            ReducedBucketCount = reduced;
            CopiedSegmentCount = copied;
            foreach (var index in _inPlace)
            {
                if (_presence[index] == 0)
                {
                    continue;
                }
                var grad = grads[index] ??= CreateGrad(_parameters[index]);
                var values = Floats(grad, index);
                var piece = (int)(BucketBytes / sizeof(float));
                for (var offset = 0; offset < values.Length; offset += piece)
                {
                    var slice = values.Slice(offset, Math.Min(piece, values.Length - offset));
                    _group.AllReduceSum(slice);
                    if (divisor != 1)
                    {
                        Divide(slice, divisor, slice);
                    }
                }
            }
        }
        finally
        {
            foreach (var grad in grads)
            {
                grad?.Dispose();
            }
        }
    }

    /// <summary>
    /// Frees the buckets' native memory now rather than at finalization. Gradients still viewing a bucket keep their part
    /// of it alive (libtorch counts the references); a later instance copies them into its own buckets once.
    /// </summary>
    public void Dispose()
    {
        foreach (var bucket in _buckets)
        {
            bucket.Dispose();
        }
    }

    /// <summary>
    /// Copies <paramref name="tensors"/> of rank <paramref name="root"/> into the same tensors of every other rank, in
    /// buckets of at most <see cref="BucketBytes"/>: at the start of a run, so that every rank starts from the same
    /// weights (the encoder's, the heads', and buffers such as running statistics). A collective.
    /// </summary>
    /// <param name="tensors">Any dtype, on the CPU, contiguous; the same shapes and order on every rank (checked).</param>
    /// <param name="root">The rank whose values everyone takes.</param>
    /// <exception cref="ArgumentException">A tensor is not on the CPU or not contiguous.</exception>
    /// <exception cref="InvalidOperationException">The ranks' tensor shapes or dtypes differ (thrown on every rank).</exception>
    public void BroadcastParameters(IEnumerable<Tensor> tensors, int root = 0)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var list = tensors.ToArray();
        for (var i = 0; i < list.Length; i++)
        {
            if (list[i].device_type != DeviceType.CPU || !list[i].is_contiguous() || list[i].numel() * list[i].ElementSize > int.MaxValue)
            {
                throw new ArgumentException($"Tensor {i} ({string.Join("x", list[i].shape)}, {list[i].dtype}) is not a contiguous CPU tensor under 2 GB.", nameof(tensors));
            }
        }
        var sizes = list.Select(t => t.numel() * t.ElementSize).ToArray();
        VerifySameOnEveryRank(_group, "broadcast tensors", list.Length, sizes.Sum(), Fingerprint(list.Select(t => (t.dtype, t.shape)), BucketBytes));
        if (_group.Size == 1)
        {
            return;
        }
        var plan = Plan(sizes, (int)Math.Min(BucketBytes, int.MaxValue));
        // Once per run, so a fresh buffer; the gradient buckets may be smaller than BucketBytes, or absent.
        var staging = new byte[plan.Count == 0 ? 0 : plan.Max(b => b.Length)];
        var isRoot = _group.Rank == root;
        foreach (var layout in plan)
        {
            var bucket = staging.AsSpan(0, layout.Length);
            if (isRoot)
            {
                foreach (var segment in layout.Segments)
                {
                    list[segment.Tensor].bytes.Slice(checked((int)segment.TensorOffset), segment.Count).CopyTo(bucket.Slice(segment.BucketOffset, segment.Count));
                }
            }
            _group.Broadcast(bucket, root);
            if (!isRoot)
            {
                foreach (var segment in layout.Segments)
                {
                    bucket.Slice(segment.BucketOffset, segment.Count).CopyTo(list[segment.Tensor].bytes.Slice(checked((int)segment.TensorOffset), segment.Count));
                }
            }
        }
    }

    /// <summary>
    /// Lays tensors of <paramref name="sizes"/> elements end to end and cuts the run every <paramref name="capacity"/>
    /// elements: every bucket but the last is full, a tensor larger than a bucket spans several, a tensor at a bucket's
    /// end continues in the next, and an empty tensor takes no place.
    /// </summary>
    /// <param name="sizes">Each tensor's element count, in order.</param>
    /// <param name="capacity">Elements per bucket; at least 1.</param>
    /// <returns>The buckets, in order; none when there are no elements.</returns>
    public static IReadOnlyList<GradientBucketLayout> Plan(IReadOnlyList<long> sizes, int capacity)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        var buckets = new List<GradientBucketLayout>();
        var segments = new List<GradientBucketSegment>();
        var fill = 0;
        for (var tensor = 0; tensor < sizes.Count; tensor++)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(sizes[tensor], nameof(sizes));
            for (long offset = 0; offset < sizes[tensor];)
            {
                if (fill == capacity)
                {
                    buckets.Add(new GradientBucketLayout(buckets.Count, fill, segments.ToArray()));
                    segments.Clear();
                    fill = 0;
                }
                var count = (int)Math.Min(capacity - fill, sizes[tensor] - offset);
                segments.Add(new GradientBucketSegment(tensor, offset, fill, count));
                fill += count;
                offset += count;
            }
        }
        if (fill > 0)
        {
            buckets.Add(new GradientBucketLayout(buckets.Count, fill, segments.ToArray()));
        }
        return buckets;
    }

    // A grad is normally contiguous like its parameter (autograd's AccumulateGrad makes it so); one that is not
    // cannot be written through a span, and is refused rather than silently copied.
    private static Span<float> Floats(Tensor grad, int index)
    {
        if (grad.dtype != ScalarType.Float32 || grad.device_type != DeviceType.CPU || !grad.is_contiguous())
        {
            throw new InvalidOperationException($"The gradient of parameter {index} is not a contiguous float32 CPU tensor ({grad.dtype}, {grad.device_type}).");
        }
        return MemoryMarshal.Cast<byte, float>(grad.bytes);
    }

    // Whether grad's elements are exactly these floats of a bucket (the same memory, the same length).
    private static bool IsViewOf(Tensor grad, Span<float> slice) =>
        grad.dtype == ScalarType.Float32 && grad.device_type == DeviceType.CPU && grad.is_contiguous() && grad.numel() == slice.Length &&
        Unsafe.AreSame(ref MemoryMarshal.GetReference(MemoryMarshal.Cast<byte, float>(grad.bytes)), ref MemoryMarshal.GetReference(slice));

    private static Tensor BindGrad(Tensor parameter, Tensor bucket, int offset)
    {
        using (no_grad())
        {
            using var range = bucket.narrow(0, offset, parameter.numel());
            using var view = range.view(parameter.shape);
            parameter.grad = view;
        }
        return parameter.grad!;
    }

    private static Tensor CreateGrad(Tensor parameter)
    {
        using (no_grad())
        {
            using var zeros = zeros_like(parameter);
            parameter.grad = zeros;
        }
        return parameter.grad!;
    }

    // destination[i] = source[i] / divisor: a division (not a product with 1/divisor) so that a mean is exactly what one
    // computes by hand, whatever the number of ranks. Memory-bound either way.
    private static void Divide(ReadOnlySpan<float> source, float divisor, Span<float> destination)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated && source.Length >= Vector<float>.Count)
        {
            var by = new Vector<float>(divisor);
            var vectors = MemoryMarshal.Cast<float, Vector<float>>(source);
            var targets = MemoryMarshal.Cast<float, Vector<float>>(destination);
            for (var v = 0; v < vectors.Length; v++)
            {
                targets[v] = vectors[v] / by;
            }
            i = vectors.Length * Vector<float>.Count;
        }
        for (; i < source.Length; i++)
        {
            destination[i] = source[i] / divisor;
        }
    }

    private static ulong Fingerprint(IEnumerable<(ScalarType DType, long[] Shape)> tensors, long bucketBytes)
    {
        // FNV-1a over every dtype, rank and dimension: ranks that built different models (another plugin set, another
        // encoder) disagree here instead of reducing mismatched buffers.
        var hash = 14695981039346656037UL;
        void Add(long value)
        {
            hash = (hash ^ (ulong)value) * 1099511628211UL;
        }
        Add(bucketBytes);
        foreach (var (dtype, shape) in tensors)
        {
            Add((long)dtype);
            Add(shape.Length);
            foreach (var dimension in shape)
            {
                Add(dimension);
            }
        }
        return hash;
    }

    private static void VerifySameOnEveryRank(IProcessGroup group, string what, long count, long elements, ulong fingerprint)
    {
        if (group.Size == 1)
        {
            return;
        }
        // Rank 0 tells its layout; each rank compares; the number of ranks that differ is summed, so that every rank
        // throws (a rank that threw alone would leave the others waiting in their next collective).
        Span<long> local = [count, elements, unchecked((long)fingerprint)];
        Span<long> rootLayout = stackalloc long[3];
        local.CopyTo(rootLayout);
        group.Broadcast(MemoryMarshal.AsBytes(rootLayout));
        Span<double> differing = [local.SequenceEqual(rootLayout) ? 0 : 1];
        group.AllReduceSum(differing);
        if (differing[0] > 0)
        {
            throw new InvalidOperationException(
                $"The {what} differ between ranks: {differing[0]:0} rank(s) have other tensors than rank 0 (rank {group.Rank}: {count} tensors, " +
                $"{elements} elements; rank 0: {rootLayout[0]} tensors, {rootLayout[1]} elements). Every rank must build the same model " +
                "(the same encoder, the same task plugins loaded) and the same bucket size.");
        }
    }
}
