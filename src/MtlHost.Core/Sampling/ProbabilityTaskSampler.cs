namespace MtlHost.Core.Sampling;

/// <summary>A sampler that draws one task per step from a probability distribution over the live tasks.</summary>
public abstract class ProbabilityTaskSampler : ITaskSampler
{
    /// <inheritdoc />
    public abstract string Name { get; }

    /// <summary>Unnormalised sampling weights of the tasks for a step.</summary>
    /// <param name="taskSizes">Training examples of each live task.</param>
    /// <param name="step">The step, zero-based.</param>
    /// <param name="totalSteps">Steps in the run.</param>
    /// <returns>One non-negative weight per task, not all zero.</returns>
    public abstract double[] Weights(IReadOnlyList<int> taskSizes, int step, int totalSteps);

    /// <summary>The sampling probabilities of the tasks for a step (the weights, normalised).</summary>
    /// <param name="taskSizes">Training examples of each live task.</param>
    /// <param name="step">The step, zero-based.</param>
    /// <param name="totalSteps">Steps in the run.</param>
    /// <returns>One probability per task; they sum to 1.</returns>
    public double[] Probabilities(IReadOnlyList<int> taskSizes, int step, int totalSteps)
    {
        var weights = Weights(taskSizes, step, totalSteps);
        var total = weights.Sum();
        return weights.Select(w => w / total).ToArray();
    }

    /// <inheritdoc />
    public IReadOnlyList<int> Next(IReadOnlyList<int> taskSizes, int step, int totalSteps, Random random)
    {
        if (taskSizes.Count == 0)
        {
            throw new ArgumentException("There is no live task to sample.", nameof(taskSizes));
        }
        var probabilities = Probabilities(taskSizes, step, totalSteps);
        var draw = random.NextDouble();
        for (var i = 0; i < probabilities.Length; i++)
        {
            draw -= probabilities[i];
            if (draw < 0)
            {
                return [i];
            }
        }
        return [probabilities.Length - 1];
    }
}
