namespace MtlHost.Core.Sampling;

/// <summary>
/// Every step takes one mini-batch from every live task, so a step has every task's loss — what the
/// weightings that compare tasks within a step (FAMO, GradNorm, PCGrad, MGDA, CAGrad) need. A step
/// costs K forward and backward passes.
/// </summary>
public sealed class AllTasksSampler : ITaskSampler
{
    /// <inheritdoc />
    public string Name => "all-tasks";

    /// <inheritdoc />
    public IReadOnlyList<int> Next(IReadOnlyList<int> taskSizes, int step, int totalSteps, Random random) =>
        Enumerable.Range(0, taskSizes.Count).ToArray();
}
