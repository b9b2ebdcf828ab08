using MtlHost.Core.Training;

namespace MtlHost.Core.Sampling;

/// <summary>Samples a task with probability proportional to its number of training examples (p_i ∝ n_i).</summary>
public sealed class ProportionalTaskSampler : ITaskSampler
{
    /// <inheritdoc />
    public string Name => "proportional";

    /// <inheritdoc />
    public int Next(IReadOnlyList<TaskRuntime> tasks, int step, Random random)
    {
        long total = 0;
        foreach (var task in tasks)
        {
            total += task.Train.Count;
        }
        var draw = random.NextInt64(total);
        for (var i = 0; i < tasks.Count; i++)
        {
            draw -= tasks[i].Train.Count;
            if (draw < 0)
            {
                return i;
            }
        }
        return tasks.Count - 1;
    }
}
