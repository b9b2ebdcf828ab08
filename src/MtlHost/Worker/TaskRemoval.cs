namespace MtlHost.Worker;

/// <summary>What became of an operator's request to take a task out of the run.</summary>
public enum TaskRemoval
{
    /// <summary>The task left the run; its head is archived with it.</summary>
    Removed,

    /// <summary>No such task is in the run.</summary>
    NotFound,

    /// <summary>The task is the last one training and stays: a run without a task cannot step.</summary>
    LastTask,
}
