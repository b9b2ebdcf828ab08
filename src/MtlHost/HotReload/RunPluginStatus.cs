namespace MtlHost.HotReload;

/// <summary>
/// What a watched run (<c>train --watch</c>) writes to <see cref="PluginStatusFile.FileName"/> in its run folder
/// on every plugin event and at its end, and what <c>mtlhost plugins list --run DIR</c> prints.
/// </summary>
/// <param name="WrittenAt">When the file was written (UTC).</param>
/// <param name="Finished">Whether the run had ended; <see langword="false"/> while it trains (or if it was killed).</param>
/// <param name="ProcessId">The process of the run.</param>
/// <param name="Step">The training step the run was at.</param>
/// <param name="PluginsDirectory">The watched plugins folder.</param>
/// <param name="LiveContexts">Plugin load contexts alive: the loaded versions plus unloaded ones not yet (or never) collected.</param>
/// <param name="FailedUnloads">Unloaded versions whose context was not collected within the wait.</param>
/// <param name="LateUnloads">Of those, how many were collected later after all.</param>
/// <param name="Plugins">Each plugin's standing.</param>
/// <param name="Events">Every event, oldest first.</param>
public sealed record RunPluginStatus(DateTime WrittenAt, bool Finished, int ProcessId, int Step, string PluginsDirectory, int LiveContexts,
    int FailedUnloads, int LateUnloads, IReadOnlyList<PluginStatus> Plugins, IReadOnlyList<PluginEvent> Events);
