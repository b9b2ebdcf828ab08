using MtlHost.Core.Training;
using MtlHost.Runs;

namespace MtlHost.Worker;

/// <summary>
/// An operator's request that changes the run (the dashboard's checkpoint and task removal), as the data every process
/// needs to carry it out alike: under <c>mpirun</c> rank 0 sends it to every process (<see cref="ControlExchange"/>), and
/// each applies it at the same step boundary.
/// </summary>
public abstract record ControlAction
{
    /// <summary>Carries the action out on this process's run, its result unused: what a process other than rank 0 does.</summary>
    /// <param name="run">The run; on the training thread, between two steps.</param>
    public abstract void Follow(TrainingRunContext run);
}

/// <summary>Write a resumable checkpoint now (<c>POST /api/checkpoint</c>); rank 0 alone writes its files.</summary>
public sealed record CheckpointAction : ControlAction
{
    /// <summary>Writes the checkpoint.</summary>
    /// <param name="run">The run; on the training thread, between two steps.</param>
    /// <returns>Its folder (on a process other than rank 0, the checkpoints folder: nothing is written there).</returns>
    public string Apply(TrainingRunContext run) => run.WriteCheckpoint();

    /// <inheritdoc />
    public override void Follow(TrainingRunContext run) => Apply(run);
}

/// <summary>Take a task out of the run (<c>DELETE /api/tasks/{id}</c>); its head is archived with the run.</summary>
/// <param name="TaskId">The task.</param>
public sealed record TaskRemovalAction(string TaskId) : ControlAction
{
    /// <summary>Takes the task out, unless it is the last one training (a run needs a task) or not in the run.</summary>
    /// <param name="run">The run; on the training thread, between two steps.</param>
    /// <returns>What became of the request; the same on every process, whose runs hold the same tasks.</returns>
    public TaskRemoval Apply(TrainingRunContext run)
    {
        var training = run.Trainer.Tasks.Where(t => t.State == TaskState.Training).Select(t => t.Id).ToList();
        if (training.Count == 1 && training[0] == TaskId)
        {
            return TaskRemoval.LastTask;
        }
        var removed = run.HotReload?.RemoveTask(TaskId, "removed by the operator: DELETE /api/tasks/" + TaskId) ?? false;
        return removed ? TaskRemoval.Removed : TaskRemoval.NotFound;
    }

    /// <inheritdoc />
    public override void Follow(TrainingRunContext run) => Apply(run);
}
