using System.Text.Json.Serialization;

namespace MtlHost.Predictions.Onnx;

/// <summary>A task of the checkpoint that an ONNX export left out, and why.</summary>
/// <param name="Id">Task id.</param>
/// <param name="Kind">Its kind.</param>
/// <param name="State">Its state in the checkpoint.</param>
/// <param name="Reason">Why it is not in the model, and what would put it there.</param>
public sealed record OnnxSkippedTask(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("reason")] string Reason);
