using MtlHost.Abstractions;
using MtlHost.Core.Training;
using MtlHost.Plugins;

namespace MtlHost.HotReload;

/// <summary>
/// What preparing a plugin version off the training thread produced: its shadow copy, the loaded plugin (descriptors
/// checked, heads not yet) and each task's tokenized data — or why it got no further. Nothing of the run has changed
/// yet: the coordinator completes it (head checks, heads, quarantine, events) at a step boundary.
/// </summary>
internal sealed class PluginPreparation
{
    /// <summary>The plugin's files in the plugins folder.</summary>
    public required PluginCandidate Candidate { get; init; }

    /// <summary>Its shadow copy, once made.</summary>
    public PluginCandidate? Copy { get; init; }

    /// <summary>Why the shadow copy failed, if it did.</summary>
    public string? CopyProblem { get; init; }

    /// <summary>The loaded version, when the loader accepted it.</summary>
    public LoadedPlugin? Plugin { get; init; }

    /// <summary>The loader's refusal, when it refused it.</summary>
    public RefusedPlugin? Refused { get; init; }

    /// <summary>Where its tasks come from (the shadow copy, named after the original folder).</summary>
    public TaskSource? Source { get; init; }

    /// <summary>Each task's data in the plugin's order, up to and including the first whose data could not be read.</summary>
    public IReadOnlyList<TaskDataResult> Tasks { get; init; } = [];

    /// <summary>How long the preparation took.</summary>
    public double Milliseconds { get; init; }

    /// <summary>Frees a preparation that will never be applied (the run ends first): its load context and its copy.</summary>
    /// <param name="shadow">The copier that made the copy.</param>
    public void Discard(PluginShadowCopier shadow)
    {
        Plugin?.Dispose();
        if (Copy is not null)
        {
            shadow.Release(Copy);
        }
    }
}

/// <summary>One task's data as its adapter produced it off the training thread.</summary>
/// <param name="Task">The task.</param>
/// <param name="Data">Its tokenized splits, or <see langword="null"/> when <paramref name="Problem"/> says why not.</param>
/// <param name="Problem">Why its data cannot be used (the quarantine reason).</param>
internal sealed record TaskDataResult(IMtlTask Task, EncodedTaskData? Data, string? Problem);
