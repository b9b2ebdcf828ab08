using MtlHost.Core.Training;

namespace MtlHost.Core.Sampling;

/// <summary>Chooses which task a training step trains.</summary>
public interface ITaskSampler
{
    /// <summary>Name used in configuration and on the command line.</summary>
    string Name { get; }

    /// <summary>Picks one of <paramref name="tasks"/>.</summary>
    /// <param name="tasks">The live tasks; at least one.</param>
    /// <param name="step">The step about to run, zero-based.</param>
    /// <param name="random">The run's seeded random source.</param>
    /// <returns>An index into <paramref name="tasks"/>.</returns>
    int Next(IReadOnlyList<TaskRuntime> tasks, int step, Random random);
}
