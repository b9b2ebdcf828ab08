namespace MtlHost.Runs;

/// <summary>How a <see cref="TrainingRun"/> treats its plugins and its console, beyond the <see cref="Hosting.HostSettings"/>.</summary>
public sealed record TrainingRunOptions
{
    /// <summary>Whether the plugins folder is watched and plugin changes are applied between steps (<c>--watch</c>, <c>serve</c>).</summary>
    public bool Watch { get; init; }

    /// <summary>Whether each task trains alone instead, its scores becoming the single-task baselines (<c>--single-task</c>).</summary>
    public bool SingleTask { get; init; }

    /// <summary>Whether a live progress bar replaces the periodic step lines in the log (a terminal, without <c>--json</c>).</summary>
    public bool ShowProgress { get; init; }
}
