namespace MtlHost.Core.Distributed;

/// <summary>One bucket of a plan made by <see cref="GradientBuckets.Plan"/>: what it holds, in order, without gaps.</summary>
/// <param name="Index">Its place in the plan.</param>
/// <param name="Length">How many elements it holds: its capacity for every bucket but the last, which holds the rest.</param>
/// <param name="Segments">The runs of tensor elements it holds, in tensor order; they fill it from 0 to <paramref name="Length"/>.</param>
public sealed record GradientBucketLayout(int Index, int Length, IReadOnlyList<GradientBucketSegment> Segments);
