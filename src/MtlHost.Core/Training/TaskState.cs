namespace MtlHost.Core.Training;

/// <summary>Whether a task takes part in training.</summary>
public enum TaskState
{
    /// <summary>Sampled and trained.</summary>
    Training,

    /// <summary>Taken out of the run because it failed; see <see cref="TaskRuntime.QuarantineReason"/>.</summary>
    Quarantined,
}
