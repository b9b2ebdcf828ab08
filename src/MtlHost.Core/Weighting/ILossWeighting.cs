namespace MtlHost.Core.Weighting;

/// <summary>
/// Turns one step's task losses into the gradients the optimizer applies: a weighted sum of the
/// losses (loss-based strategies, one backward pass) or a combination of per-task gradients of the
/// shared parameters (gradient-based strategies, one backward pass per task).
/// </summary>
/// <remarks>
/// A strategy keeps any state it learns (task weights, loss history) by task id, so tasks can join
/// and leave a running training between two steps; a task it has not seen starts from the
/// strategy's initial weight, and the state of a task that leaves is kept (a few numbers), so a task
/// that comes back, or is replaced by a new version under the same id, resumes where it was.
/// </remarks>
public interface ILossWeighting
{
    /// <summary>Name used in configuration and on the command line.</summary>
    string Name { get; }

    /// <summary>
    /// Whether every step needs a loss from every live task (the <c>all-tasks</c> sampler): true for
    /// strategies that compare tasks within a step.
    /// </summary>
    bool NeedsEveryTask { get; }

    /// <summary>
    /// Runs the backward pass(es) of one step: after it, every trainable parameter the losses depend on
    /// has its gradient.
    /// </summary>
    /// <param name="step">The step's losses and shared parameters.</param>
    /// <returns>The weight given to each task's loss, in <see cref="WeightingStep.TaskIds"/> order (for logs and curves).</returns>
    IReadOnlyList<double> Backward(WeightingStep step);

    /// <summary>
    /// A copy of what the strategy has learned, by task id (one array of finite numbers per task),
    /// for a checkpoint. Empty for strategies that learn nothing.
    /// </summary>
    /// <returns>The snapshot; later steps do not change it.</returns>
    IReadOnlyDictionary<string, double[]> GetState();

    /// <summary>Replaces what the strategy has learned with a snapshot taken by <see cref="GetState"/> of the same strategy.</summary>
    /// <param name="state">The snapshot.</param>
    /// <exception cref="ArgumentException">The snapshot does not have this strategy's layout.</exception>
    void SetState(IReadOnlyDictionary<string, double[]> state);
}
