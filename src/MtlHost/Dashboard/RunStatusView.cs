using MtlHost.HotReload;
using MtlHost.Worker;

namespace MtlHost.Dashboard;

/// <summary>The body of <c>GET /api/status</c>: the run now.</summary>
/// <param name="State">Where the run stands.</param>
/// <param name="Paused">Whether training waits between two steps (<c>POST /api/pause</c>).</param>
/// <param name="Step">Steps taken.</param>
/// <param name="TotalSteps">The step budget, or <see langword="null"/> when the run trains until stopped.</param>
/// <param name="StepsPerSecond">Steps per second over the last 10 seconds.</param>
/// <param name="StartedAt">When the service started (UTC).</param>
/// <param name="Memory">The process's memory.</param>
/// <param name="Tasks">Every task seen in the run, by id.</param>
/// <param name="Plugins">Every plugin of the watched folder and its standing.</param>
/// <param name="Events">The latest hot-reload events (add, replace, remove, quarantine, unload), oldest first.</param>
/// <param name="LastCheckpoint">The last checkpoint written, or <see langword="null"/>.</param>
/// <param name="Error">Why the run failed, if it did.</param>
public sealed record RunStatusView(RunState State, bool Paused, int Step, int? TotalSteps, double StepsPerSecond, DateTime StartedAt,
    MemoryView Memory, IReadOnlyList<TaskView> Tasks, IReadOnlyList<PluginStatus> Plugins, IReadOnlyList<PluginEvent> Events,
    CheckpointView? LastCheckpoint, string? Error);
