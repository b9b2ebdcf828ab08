using MtlHost.Abstractions;
using MtlHost.Core.Encoders;
using MtlHost.Core.Sharing;

namespace MtlHost.Inference;

/// <summary>A task head loaded from a checkpoint, with the task it predicts.</summary>
/// <param name="Task">The task as the checkpoint records it.</param>
/// <param name="Descriptor">A host-owned copy of the plugin's descriptor.</param>
/// <param name="Head">The head module, in evaluation mode.</param>
internal sealed record LoadedHead(PredictorTask Task, TaskDescriptor Descriptor, TaskHead Head)
{
    /// <summary>The task's encoder branch; <see langword="null"/> with hard sharing.</summary>
    public EncoderBranch? Branch { get; init; }
}
