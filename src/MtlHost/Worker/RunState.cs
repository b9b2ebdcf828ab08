namespace MtlHost.Worker;

/// <summary>Where the training run of <c>mtlhost serve</c> stands.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<RunState>))]
public enum RunState
{
    /// <summary>Loading the plugins and building the encoder.</summary>
    Starting,

    /// <summary>Taking steps (or paused between two; see the paused flag).</summary>
    Training,

    /// <summary>Asked to stop: finishing the step, evaluating and writing the checkpoint.</summary>
    Stopping,

    /// <summary>The run ended and wrote its checkpoint; the dashboard still serves.</summary>
    Finished,

    /// <summary>The run failed; see the error.</summary>
    Failed,
}
