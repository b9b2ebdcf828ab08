namespace MtlHost.HotReload;

/// <summary>Hot reload at the end of a run (or now): what <c>summary.json</c> and the status show.</summary>
/// <param name="LiveContexts">Plugin load contexts alive.</param>
/// <param name="FailedUnloads">Unloaded versions whose context was not collected (leaks).</param>
/// <param name="LateUnloads">Unloaded versions whose context was collected only after the wait (slow, not leaked).</param>
/// <param name="Plugins">Each plugin's standing.</param>
/// <param name="Events">Every event, oldest first.</param>
public sealed record HotReloadSummary(int LiveContexts, int FailedUnloads, int LateUnloads, IReadOnlyList<PluginStatus> Plugins, IReadOnlyList<PluginEvent> Events)
{
    /// <summary>Reads the status.</summary>
    /// <param name="status">The live status.</param>
    /// <returns>The summary.</returns>
    public static HotReloadSummary Of(HotReloadStatus status) => new(status.LiveContexts, status.FailedUnloads, status.LateUnloads, status.Plugins, status.Events);
}
