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

    /// <summary>How long a task's dataset adapter may take to read its data before the plugin is quarantined.</summary>
    public TimeSpan DataTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Steps each replaced task must train without failing before its previous version is unloaded;
    /// until then the previous version waits, intact, to take over again if the new one fails.
    /// </summary>
    public int ProbationSteps { get; init; } = 3;
}
