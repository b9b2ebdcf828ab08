using TorchSharp.Modules;

namespace MtlHost.Core.Training;

/// <summary>
/// A task taken out of a run's <see cref="TaskRoster"/> together with its head's optimizer, untouched: it
/// can be snapshotted, put back with <see cref="TaskRoster.Attach"/>, or disposed (which frees
/// its head and optimizer state, the last thing the host holds of its plugin).
/// </summary>
public sealed class DetachedTask : IDisposable
{
    internal DetachedTask(TaskRuntime runtime, AdamW optimizer)
    {
        Runtime = runtime;
        Optimizer = optimizer;
    }

    /// <summary>The task.</summary>
    public TaskRuntime Runtime { get; }

    internal AdamW Optimizer { get; }

    /// <summary>Copies the head and its optimizer state into host-owned tensors.</summary>
    /// <returns>The snapshot; the caller owns it.</returns>
    public HeadSnapshot Snapshot() => HeadSnapshot.Take(Runtime, Optimizer);

    /// <inheritdoc />
    public void Dispose()
    {
        Optimizer.Dispose();
        Runtime.Dispose();
    }
}
