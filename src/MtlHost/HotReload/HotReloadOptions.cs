namespace MtlHost.HotReload;

/// <summary>How hot reload watches the plugins folder and judges a new plugin version.</summary>
public sealed record HotReloadOptions
{
    /// <summary>How long a plugin's files must stay unchanged before the change is applied (a copy of several files is one change).</summary>
    public TimeSpan Debounce { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How often the folder is rescanned even without file-system events.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How long an unloaded plugin's load context may take to be collected before it is reported as leaked.</summary>
    public TimeSpan UnloadTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// After an unload failed (<see cref="UnloadTimeout"/> passed), how long its context is still watched: if it is collected
    /// within this time, an <see cref="PluginEventKind.UnloadedLate"/> event says so and it no longer counts as a leak.
    /// </summary>
    public TimeSpan LateUnloadWatch { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>How long a task's dataset adapter may take to read its data before the plugin is quarantined.</summary>
    public TimeSpan DataTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Steps each replaced task must train without failing before its previous version is unloaded;
    /// until then the previous version waits, intact, to take over again if the new one fails.
    /// </summary>
    public int ProbationSteps { get; init; } = 3;

    /// <summary>
    /// Whether a changed plugin is prepared (shadow copy, load, descriptor checks, data read and tokenized) on a thread of
    /// its own as soon as its change settles, while the step in flight runs; the training thread then only completes it (head
    /// checks, heads) and swaps it in at the next step boundary. <see langword="false"/>: the training thread prepares it at
    /// the boundary, after the step in flight (as before; kept for comparison).
    /// </summary>
    public bool PrepareInBackground { get; init; } = true;

    /// <summary>
    /// Where the run writes its plugin status (<see cref="RunPluginStatus"/>) on every plugin event and at its end, so that
    /// <c>mtlhost plugins list --run DIR</c> can show it from another process; <see langword="null"/>: nowhere.
    /// <c>train --watch</c> uses <c>plugins-status.json</c> in its run folder.
    /// </summary>
    public string? StatusFile { get; init; }
}
