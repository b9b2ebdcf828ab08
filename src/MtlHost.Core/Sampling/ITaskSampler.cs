namespace MtlHost.Core.Sampling;

/// <summary>Chooses which task or tasks a training step trains.</summary>
/// <remarks>
/// A sampler sees only the live tasks' training-set sizes and the step, and draws from the random
/// source it is given, which the trainer seeds from the run's seed and the step: a sampler holds no
/// state of its own, so a resumed run or a task joining mid-run needs nothing restored.
/// </remarks>
public interface ITaskSampler
{
    /// <summary>Name used in configuration and on the command line.</summary>
    string Name { get; }

    /// <summary>Picks the tasks of one step.</summary>
    /// <param name="taskSizes">Training examples of each live task; at least one.</param>
    /// <param name="step">The step about to run, zero-based.</param>
    /// <param name="totalSteps">Steps in the run (for schedules that change over the run).</param>
    /// <param name="random">A random source seeded for this step.</param>
    /// <returns>Distinct indices into <paramref name="taskSizes"/>, in ascending order.</returns>
    IReadOnlyList<int> Next(IReadOnlyList<int> taskSizes, int step, int totalSteps, Random random);
}
