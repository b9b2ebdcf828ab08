namespace MtlHost.HotReload;

/// <summary>One hot-reload event, as logged and as shown by the run's status.</summary>
/// <param name="At">When it happened (UTC).</param>
/// <param name="Step">The training step it happened before.</param>
/// <param name="Kind">What happened.</param>
/// <param name="Plugin">The plugin.</param>
/// <param name="TaskId">The task, when the event is about one task.</param>
/// <param name="OldVersion">The version that was running before, if any.</param>
/// <param name="NewVersion">The version that runs now or was refused, if any.</param>
/// <param name="Milliseconds">How long the operation took (load, validation, data and swap; or the unload wait).</param>
/// <param name="Message">What happened, in words (the reason of a quarantine).</param>
/// <param name="Kept">Head tensors carried over (replace, or re-add from the archive).</param>
/// <param name="Reset">Head tensors that start from the plugin's initialisation.</param>
public sealed record PluginEvent(DateTime At, int Step, PluginEventKind Kind, string Plugin, string? TaskId, string? OldVersion, string? NewVersion,
    double Milliseconds, string Message, IReadOnlyList<string>? Kept = null, IReadOnlyList<string>? Reset = null);
