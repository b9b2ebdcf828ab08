namespace MtlHost.HotReload;

/// <summary>Where a plugin of the watched folder stands in the run.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<PluginRunState>))]
public enum PluginRunState
{
    /// <summary>Its current version trains.</summary>
    Training,

    /// <summary>Its newest version was quarantined; the last good version keeps training.</summary>
    TrainingLastGood,

    /// <summary>No version of it trains; see the reason.</summary>
    Quarantined,

    /// <summary>It was deleted from the folder; its heads are archived with the run.</summary>
    Removed,
}
