using System.Runtime.InteropServices;
using MtlHost.Core.Distributed;
using MtlHost.Core.Encoders;
using Shouldly;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace MtlHost.Tests.Distributed;

/// <summary>
/// How the gradient buckets are planned and filled, in one process: the plan's boundaries, and the copying in and out
/// of real TorchSharp gradients through a stand-in group of two ranks. The MPI side: <see cref="MpiProbeTests"/>.
/// </summary>
public sealed class GradientBucketsTests
{
    [Fact]
    public void Tensors_are_laid_end_to_end_and_cut_every_capacity_elements()
    {
        var plan = GradientBuckets.Plan([3, 5, 2], capacity: 4);

        plan.Select(b => b.Length).ShouldBe([4, 4, 2]);
        plan[0].Segments.ShouldBe([new GradientBucketSegment(0, 0, 0, 3), new GradientBucketSegment(1, 0, 3, 1)]);
        plan[1].Segments.ShouldBe([new GradientBucketSegment(1, 1, 0, 4)]);
        plan[2].Segments.ShouldBe([new GradientBucketSegment(2, 0, 0, 2)]);
        plan.Select(b => b.Index).ShouldBe([0, 1, 2]);
    }

    [Fact]
    public void A_tensor_larger_than_a_bucket_is_split_over_as_many_as_it_needs()
    {
        var plan = GradientBuckets.Plan([1, 10, 1], capacity: 4);

        plan.Select(b => b.Length).ShouldBe([4, 4, 4]);
        plan.SelectMany(b => b.Segments).Where(s => s.Tensor == 1).Select(s => (s.TensorOffset, s.Count)).ShouldBe([(0L, 3), (3L, 4), (7L, 3)]);
        plan[2].Segments.Last().ShouldBe(new GradientBucketSegment(2, 0, 3, 1));
    }

    [Fact]
    public void A_bucket_filled_exactly_is_closed_without_an_empty_one_after_it_and_empty_tensors_take_no_place()
    {
        GradientBuckets.Plan([4, 0, 4], capacity: 4).Select(b => b.Length).ShouldBe([4, 4]);
        GradientBuckets.Plan([0, 0], capacity: 4).ShouldBeEmpty();
        GradientBuckets.Plan([], capacity: 4).ShouldBeEmpty();
        Should.Throw<ArgumentOutOfRangeException>(() => GradientBuckets.Plan([1], capacity: 0));
    }

    [Fact]
    public void MiniLM_s_gradients_take_four_buckets_of_at_most_25_MiB_with_the_word_embeddings_split()
    {
        using var encoder = EncoderCatalog.Create(EncoderCatalog.MiniLmRandom, seed: 1);
        var parameters = encoder.parameters().ToList();

        var buckets = new GradientBuckets(new SingleProcessGroup(), parameters);

        buckets.ElementCount.ShouldBe(parameters.Sum(p => p.numel()));
        buckets.ElementCount.ShouldBeInRange(22_000_000, 23_000_000);
        buckets.Buckets.Count.ShouldBe(4);
        buckets.Buckets.ShouldAllBe(b => b.Length * 4L <= GradientBuckets.DefaultBucketBytes);
        buckets.Buckets.Sum(b => (long)b.Length).ShouldBe(buckets.ElementCount);
        var largest = parameters.Select((p, i) => (Index: i, Size: p.numel())).MaxBy(p => p.Size);
        (largest.Size * 4).ShouldBeGreaterThan(GradientBuckets.DefaultBucketBytes);
        buckets.Buckets.Count(b => b.Segments.Any(s => s.Tensor == largest.Index)).ShouldBe(2);
    }

    [Fact]
    public void Only_contiguous_float32_CPU_parameters_and_buckets_of_at_least_one_float_are_accepted()
    {
        using var doubles = zeros(3, dtype: ScalarType.Float64);
        using var floats = zeros(3);

        Should.Throw<ArgumentException>(() => new GradientBuckets(new SingleProcessGroup(), [doubles]));
        Should.Throw<ArgumentException>(() => new GradientBuckets(new SingleProcessGroup(), [floats.t().unsqueeze(0).expand(2, 3)]));
        Should.Throw<ArgumentOutOfRangeException>(() => new GradientBuckets(new SingleProcessGroup(), [floats], bucketBytes: 3));
    }

    [Fact]
    public void A_single_process_keeps_its_gradients_as_they_are_and_sends_nothing()
    {
        var parameters = Parameters([3], [5]);
        using (var grad = tensor(new float[] { 1, 2, 3 }))
        {
            parameters[0].grad = grad;
        }

        var buckets = new GradientBuckets(new SingleProcessGroup(), parameters, bucketBytes: 8);
        buckets.AverageGradients();
        buckets.BroadcastParameters(parameters);

        using var kept = parameters[0].grad!;
        kept.data<float>().ToArray().ShouldBe([1f, 2f, 3f]);
        parameters[1].grad.ShouldBeNull();
        buckets.ReducedBucketCount.ShouldBe(0);
    }

    [Fact]
    public void Gradients_go_into_the_buckets_and_their_mean_comes_back_into_every_parameter()
    {
        // The other rank of this stand-in has the same gradients: the mean is each gradient itself, whatever bucket
        // boundary a parameter straddles. Bucket of 16 bytes (4 floats): 3 | 5 -> [3+1][4] | [2+2] | ...
        var group = new TwinRankGroup(otherRank: v => v);
        var parameters = Parameters([3], [5], [2, 3], [1]);
        var values = SetDistinctGradients(parameters);

        var buckets = new GradientBuckets(group, parameters, bucketBytes: 16);
        group.FloatCalls.Clear();
        buckets.AverageGradients();

        for (var p = 0; p < parameters.Count; p++)
        {
            using var grad = parameters[p].grad!;
            grad.data<float>().ToArray().ShouldBe(values[p]);
        }
        // One call for which ranks have which gradients, then one per bucket, none larger than a bucket.
        group.FloatCalls.ShouldBe([4, 4, 4, 4, 3]);
        buckets.ReducedBucketCount.ShouldBe(4);
        buckets.UnevenGradientCount.ShouldBe(0);
    }

    [Fact]
    public void Summed_shares_come_back_as_the_sum_through_the_buckets_and_in_place_alike()
    {
        // The trainer's reduction: each rank's gradient is its share, so the sum is the mean and nothing is divided.
        var group = new TwinRankGroup(otherRank: v => v);
        var parameters = Parameters([3], [5], [2, 3], [1]);
        var values = SetDistinctGradients(parameters);

        // Parameters of 20 bytes or more (the [5] and the [2, 3]) are reduced in place, the others in one bucket.
        var buckets = new GradientBuckets(group, parameters, bucketBytes: 16, inPlaceBytes: 20);
        group.FloatCalls.Clear();
        buckets.SumGradients();

        for (var p = 0; p < parameters.Count; p++)
        {
            using var grad = parameters[p].grad!;
            grad.data<float>().ToArray().ShouldBe(values[p].Select(v => 2 * v).ToArray());
        }
        buckets.InPlaceCount.ShouldBe(2);
        group.FloatCalls.ShouldBe([4, 4, 4, 1, 4, 2]);
    }

    [Fact]
    public void After_the_first_reduction_a_bucketed_gradient_is_a_view_into_its_bucket_and_backward_accumulates_there()
    {
        // The other rank has the same gradients: each sum is twice this rank's.
        var group = new TwinRankGroup(otherRank: v => v);
        var parameters = Parameters([3], [5], [2, 3], [1]);
        var values = SetDistinctGradients(parameters);
        // One bucket of 16 floats holds all four parameters whole.
        var buckets = new GradientBuckets(group, parameters, bucketBytes: 64);
        buckets.SumGradients();
        buckets.CopiedSegmentCount.ShouldBe(4);

        // A backward pass as the trainer runs it: gradients zeroed in place, then accumulated by autograd.
        using var optimizer = optim.SGD(parameters, 0.1);
        optimizer.zero_grad();
        using (var loss = parameters.Select((p, i) => (p * (i + 1)).sum()).Aggregate((a, b) => a + b))
        {
            loss.backward();
        }
        buckets.SumGradients();

        // Nothing copied: autograd wrote into the bucket, where the sum happened.
        buckets.CopiedSegmentCount.ShouldBe(0);
        for (var p = 0; p < parameters.Count; p++)
        {
            using var grad = parameters[p].grad!;
            grad.data<float>().ToArray().ShouldAllBe(g => g == 2f * (p + 1));
        }

        // A grad tensor replaced by other code is copied in once, then bound again.
        using (var replaced = tensor(values[1]))
        {
            parameters[1].grad = replaced;
        }
        buckets.SumGradients();
        buckets.CopiedSegmentCount.ShouldBe(1);
        using (var summed = parameters[1].grad!)
        {
            summed.data<float>().ToArray().ShouldBe(values[1].Select(v => 2 * v).ToArray());
        }
        buckets.SumGradients();
        buckets.CopiedSegmentCount.ShouldBe(0);
    }

    [Fact]
    public void Buckets_made_inside_a_dispose_scope_outlive_it()
    {
        // The trainer makes new buckets inside a step (after hot reload changed the heads); the step's scope ends first.
        var group = new TwinRankGroup(otherRank: v => v);
        var parameters = Parameters([3], [2]);
        var values = SetDistinctGradients(parameters);
        GradientBuckets buckets;
        using (NewDisposeScope())
        {
            buckets = new GradientBuckets(group, parameters, bucketBytes: 64);
            buckets.SumGradients();
        }

        buckets.SumGradients();

        using var grad = parameters[0].grad!;
        grad.data<float>().ToArray().ShouldBe(values[0].Select(v => 4 * v).ToArray());
    }

    [Fact]
    public void A_gradient_missing_here_but_present_elsewhere_is_created_and_one_missing_everywhere_stays_missing()
    {
        // The stand-in's other rank has the same gradients where this rank has one, and no others.
        var group = new TwinRankGroup(otherRank: v => v);
        var parameters = Parameters([4], [4], [4]);
        using (var grad = tensor(new float[] { 2, 4, 6, 8 }))
        {
            parameters[0].grad = grad;
        }

        var buckets = new GradientBuckets(group, parameters, bucketBytes: 16);
        group.FloatCalls.Clear();
        buckets.AverageGradients();

        using (var averaged = parameters[0].grad!)
        {
            averaged.data<float>().ToArray().ShouldBe([2f, 4f, 6f, 8f]);
        }
        parameters[1].grad.ShouldBeNull();
        parameters[2].grad.ShouldBeNull();
        // The buckets holding only parameters without gradients are not sent.
        group.FloatCalls.ShouldBe([3, 4]);
        buckets.ReducedBucketCount.ShouldBe(1);

        // Now the other rank has a gradient of parameter 1 (all ones) that this rank lacks: it arrives halved.
        var uneven = new TwinRankGroup(otherRank: _ => 1f);
        var unevenBuckets = new GradientBuckets(uneven, parameters, bucketBytes: 16);
        unevenBuckets.AverageGradients();

        using (var created = parameters[1].grad!)
        {
            created.data<float>().ToArray().ShouldBe([0.5f, 0.5f, 0.5f, 0.5f]);
        }
        using (var mean = parameters[0].grad!)
        {
            mean.data<float>().ToArray().ShouldBe([1.5f, 2.5f, 3.5f, 4.5f]);
        }
        unevenBuckets.UnevenGradientCount.ShouldBe(2);
    }

    [Fact]
    public void TorchSharp_s_bytes_span_is_the_tensor_s_own_memory_from_its_storage_offset()
    {
        // The buckets read and write gradients through Tensor.bytes: that must be no copy, and start where a view starts.
        using var whole = zeros(6);
        using var view = whole[TensorIndex.Slice(2, 6)];
        view.is_contiguous().ShouldBeTrue();

        MemoryMarshal.Cast<byte, float>(view.bytes)[0] = 7f;
        MemoryMarshal.Cast<byte, float>(whole.bytes)[5] = 9f;

        whole.data<float>().ToArray().ShouldBe([0f, 0f, 7f, 0f, 0f, 9f]);
        view.bytes.Length.ShouldBe(16);
    }

    // Gradient element j of parameter p is 10p + j + 0.5: every element different, so a misplaced copy shows.
    private static List<float[]> SetDistinctGradients(List<Parameter> parameters)
    {
        var values = new List<float[]>();
        for (var p = 0; p < parameters.Count; p++)
        {
            var grad = Enumerable.Range(0, (int)parameters[p].numel()).Select(j => 10f * p + j + 0.5f).ToArray();
            values.Add(grad);
            using var g = tensor(grad).reshape(parameters[p].shape);
            parameters[p].grad = g;
        }
        return values;
    }

    private static List<Parameter> Parameters(params long[][] shapes) => shapes.Select(s => new Parameter(zeros(s))).ToList();

    /// <summary>
    /// Two ranks in one process: the other rank's contribution to a sum is a function of this rank's value (same
    /// gradients: v; none: 0). Broadcasts leave the values (both ranks built the same model). Records each float call's length.
    /// </summary>
    private sealed class TwinRankGroup(Func<float, float> otherRank) : IProcessGroup
    {
        public List<int> FloatCalls { get; } = [];

        public int Rank => 0;

        public int Size => 2;

        public bool IsRoot => true;

        public void AllReduceSum(Span<float> values)
        {
            FloatCalls.Add(values.Length);
            for (var i = 0; i < values.Length; i++)
            {
                values[i] += otherRank(values[i]);
            }
        }

        public void AllReduceSum(Span<double> values)
        {
        }

        public void Broadcast(Span<byte> data, int root = 0)
        {
        }

        public void Barrier()
        {
        }

        [System.Diagnostics.CodeAnalysis.DoesNotReturn]
        public void Abort(int code) => throw new InvalidOperationException($"abort {code}");

        public void Dispose()
        {
        }
    }
}
