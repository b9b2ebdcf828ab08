using MtlHost.Core.Distributed;
using MtlHost.Core.Weighting;

namespace MtlHost.Core.Training;

/// <summary>How a <see cref="JointTrainer"/> trains as one of several processes: its group and its gradient buckets.</summary>
/// <param name="Group">The processes.</param>
/// <param name="Buckets">Averages the gradients of every trainable parameter across them.</param>
internal sealed record DataParallelism(IProcessGroup Group, GradientBuckets Buckets)
{
    /// <summary>
    /// Weightings that give every process the same weights from the averaged losses alone: EW, DWA (its history is the
    /// averaged losses) and RLW (drawn from the step's seed). The others learn from a process's own losses (UW, FAMO)
    /// or combine per-task gradients, which would first have to be averaged task by task.
    /// </summary>
    public static IReadOnlyList<string> SupportedWeightings { get; } = ["ew", "dwa", "rlw"];

    /// <summary>Whether <paramref name="weighting"/> trains across processes.</summary>
    /// <param name="weighting">The run's weighting.</param>
    /// <returns>Whether it is supported.</returns>
    public static bool Supports(ILossWeighting weighting) => SupportedWeightings.Contains(weighting.Name);
}
