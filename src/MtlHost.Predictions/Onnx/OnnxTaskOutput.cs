using System.Text.Json.Serialization;

namespace MtlHost.Predictions.Onnx;

/// <summary>A task whose head is an output of an exported ONNX model.</summary>
public sealed record OnnxTaskOutput
{
    /// <summary>Task id.</summary>
    [JsonPropertyName("id")]
    public required string Id { get; init; }

    /// <summary>Its kind (<see cref="TaskKindNames"/>).</summary>
    [JsonPropertyName("kind")]
    public required string Kind { get; init; }

    /// <summary>Its labels in index order (empty for regression).</summary>
    [JsonPropertyName("labels")]
    public required IReadOnlyList<string> Labels { get; init; }

    /// <summary>Its state in the checkpoint: <c>Training</c> tasks are predicted by default, others only when asked for.</summary>
    [JsonPropertyName("state")]
    public required string State { get; init; }

    /// <summary>The model output holding the head's result: <c>&lt;task&gt;_logits</c>, <c>&lt;task&gt;_token_logits</c> or <c>&lt;task&gt;_value</c>.</summary>
    [JsonPropertyName("output")]
    public required string Output { get; init; }

    /// <summary>Shape of the output: <c>[batch, labels]</c>, <c>[batch, tokens, labels]</c> or <c>[batch]</c>.</summary>
    [JsonPropertyName("shape")]
    public required string Shape { get; init; }

    /// <summary>What a row of the input holds for this task: <c>[CLS] text [SEP]</c>, the words, or the text pair.</summary>
    [JsonPropertyName("input")]
    public required string Input { get; init; }

    /// <summary>How the output becomes the prediction.</summary>
    [JsonPropertyName("decoding")]
    public required string Decoding { get; init; }

    /// <summary>The encoder branch the head reads (<c>--sharing top-layers</c> or <c>adapters</c>); absent with hard sharing.</summary>
    [JsonPropertyName("branch")]
    public string? Branch { get; init; }
}
