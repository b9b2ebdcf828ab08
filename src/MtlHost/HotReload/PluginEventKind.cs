namespace MtlHost.HotReload;

/// <summary>What happened to a plugin during a run.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<PluginEventKind>))]
public enum PluginEventKind
{
    /// <summary>Its tasks joined the run.</summary>
    Added,

    /// <summary>A new version took over a task; the event says which head tensors were kept and which reset.</summary>
    Replaced,

    /// <summary>Its tasks left the run; their heads were archived with the run.</summary>
    Removed,

    /// <summary>A version failed to load, validate or train and was taken out, with the reason.</summary>
    Quarantined,

    /// <summary>A new version failed while on probation and the last good version took over again.</summary>
    Restored,

    /// <summary>An old version's load context was collected.</summary>
    Unloaded,

    /// <summary>An old version's load context was still alive after the wait: something still references the plugin.</summary>
    UnloadFailed,

    /// <summary>A context reported as <see cref="UnloadFailed"/> was collected later after all: not a leak, a slow collection.</summary>
    UnloadedLate,
}
