namespace MtlHost.Commands;

/// <summary>
/// Where a host of <see cref="TrainCommand"/> (the worker service's dashboard and controls) joins a
/// training run: once when it starts, and on the training thread between two steps.
/// </summary>
public sealed class RunHooks
{
    /// <summary>Called once the trainer is built, before the first step, on the training thread.</summary>
    public Action<TrainingRunContext>? Started { get; init; }

    /// <summary>
    /// Called on the training thread before every step, after pending plugin changes are applied: the safe
    /// point to pause, write a checkpoint or take a task out.
    /// </summary>
    public Action? BetweenSteps { get; init; }
}
