namespace MtlHost.Core.Distributed;

/// <summary>A run of consecutive elements of one tensor that sits in one bucket.</summary>
/// <param name="Tensor">The tensor's index in the list the buckets were planned for.</param>
/// <param name="TensorOffset">Where the run starts in the tensor's flattened elements.</param>
/// <param name="BucketOffset">Where it starts in the bucket.</param>
/// <param name="Count">How many elements.</param>
public readonly record struct GradientBucketSegment(int Tensor, long TensorOffset, int BucketOffset, int Count);
