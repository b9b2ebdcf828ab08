using System.Diagnostics.CodeAnalysis;
using static TorchSharp.torch;

namespace MtlHost.Core.Weighting;

/// <summary>
/// Averages what a gradient-based weighting computes from one process's share of the batch (each task's gradient of the
/// shared parameters, or of its shared representation) over every process training together, before the weighting's
/// algebra: so that every process solves for the same weights from the same numbers, those one process with the whole
/// batch would see (every task's loss being a mean over its batch).
/// </summary>
/// <remarks>
/// <para>
/// Every gradient a process computes in a step is its share of the mean: <see cref="WeightingStep"/> scales the losses
/// by 1/<see cref="ProcessCount"/> before each backward pass, so the mean over the processes is a plain sum, here and in
/// the trainer's reduction of the parameters' gradients, with no division pass over them afterwards.
/// </para>
/// <para>
/// <see cref="Sum"/> and <see cref="Fail"/> are collectives: on every process, <see cref="WeightingStep"/> calls exactly
/// one of them each time it computes such rows, whether its own backward passes worked or not, so that no process waits
/// for one that failed.
/// </para>
/// </remarks>
public interface ITaskGradientAveraging
{
    /// <summary>How many processes train together; each scales its losses by its reciprocal.</summary>
    int ProcessCount { get; }

    /// <summary>Replaces <paramref name="rows"/>, this process's share, in place by the sum of every process's share: their mean.</summary>
    /// <param name="rows">[K, X]: one row per task; float32, on the CPU, contiguous.</param>
    /// <remarks>Throws on every process when another process could not compute its rows (it called <see cref="Fail"/>).</remarks>
    void Sum(Tensor rows);

    /// <summary>Tells every other process that this one could not compute its rows, then throws <paramref name="failure"/>.</summary>
    /// <param name="failure">What went wrong here.</param>
    [DoesNotReturn]
    void Fail(Exception failure);
}
