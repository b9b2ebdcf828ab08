using MtlHost.Core.Training;

namespace MtlHost.HotReload;

/// <summary>A replace not yet settled: the new version trains while the previous one waits, intact, to take over again.</summary>
/// <param name="Previous">The version that was replaced.</param>
/// <param name="PreviousTasks">Its tasks, detached from the run with their optimizers.</param>
/// <param name="Current">The new version.</param>
/// <param name="Replaced">Ids of the tasks the new version replaced.</param>
internal sealed record Probation(ActivePlugin Previous, List<DetachedTask> PreviousTasks, ActivePlugin Current, IReadOnlyList<string> Replaced);
