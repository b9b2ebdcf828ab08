using System.Text.Json;
using System.Text.Json.Serialization;

namespace MtlHost.Predictions.Onnx;

/// <summary>
/// <c>mtlhost-onnx.json</c>, the description of an <c>mtlhost export --format onnx</c> folder: the model file, its
/// inputs, the vocabulary, and per task the output that holds its head's result and how to decode it. Written by the
/// host's exporter and read by <c>MtlHost.Inference.Onnx</c>, so both agree on one schema.
/// </summary>
public sealed record OnnxModelDescription
{
    /// <summary>Name of the description file in an export folder.</summary>
    public const string FileName = "mtlhost-onnx.json";

    /// <summary>The format this type reads and writes.</summary>
    public const string CurrentFormat = "mtlhost-onnx/1";

    private static readonly JsonSerializerOptions Options = new() { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    /// <summary>Format and version of the description (<see cref="CurrentFormat"/>).</summary>
    [JsonPropertyName("format")]
    public string Format { get; init; } = CurrentFormat;

    /// <summary>The ONNX model, relative to the folder.</summary>
    [JsonPropertyName("model")]
    public required string Model { get; init; }

    /// <summary>The WordPiece vocabulary (<c>vocab.txt</c>), relative to the folder.</summary>
    [JsonPropertyName("vocabulary")]
    public required string Vocabulary { get; init; }

    /// <summary><c>none</c> (fp32 throughout) or <c>int8</c> (the encoder's matrix multiplications dynamically quantized).</summary>
    [JsonPropertyName("quantization")]
    public required string Quantization { get; init; }

    /// <summary>The checkpoint folder exported, absolute.</summary>
    [JsonPropertyName("checkpoint")]
    public required string Checkpoint { get; init; }

    /// <summary>Training step of the checkpoint.</summary>
    [JsonPropertyName("step")]
    public required int Step { get; init; }

    /// <summary>Catalog name of the encoder (<c>minilm</c>, <c>tiny</c>, …).</summary>
    [JsonPropertyName("encoder")]
    public required string Encoder { get; init; }

    /// <summary>Longest token sequence, as in training; longer inputs are truncated.</summary>
    [JsonPropertyName("max_length")]
    public required int MaxLength { get; init; }

    /// <summary>How the model's inputs are made: names, types and what they hold.</summary>
    [JsonPropertyName("inputs")]
    public string InputsNote { get; init; } =
        "input_ids, attention_mask, token_type_ids: int64 [batch, tokens]; the rows of the tokenizer (vocab.txt, BERT uncased WordPiece), " +
        "padded with [PAD] and attention_mask 0";

    /// <summary>The sharing strategy of the checkpoint (<c>hard</c>, <c>top-layers</c>, <c>adapters</c>).</summary>
    [JsonPropertyName("sharing")]
    public required string Sharing { get; init; }

    /// <summary>The tasks whose heads are outputs of the model, in id order.</summary>
    [JsonPropertyName("tasks")]
    public required IReadOnlyList<OnnxTaskOutput> Tasks { get; init; }

    /// <summary>Tasks of the checkpoint that are not in the model, with the reason.</summary>
    [JsonPropertyName("not_exported")]
    public IReadOnlyList<OnnxSkippedTask> NotExported { get; init; } = [];

    /// <summary>Reads the description of an export folder.</summary>
    /// <param name="directory">The export folder.</param>
    /// <returns>The description.</returns>
    /// <exception cref="InvalidDataException">The file is missing, not JSON of this format, or incomplete; the message names the fix.</exception>
    public static OnnxModelDescription Read(string directory)
    {
        var path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
        {
            throw new InvalidDataException($"'{directory}' has no {FileName}: it is not an ONNX export; write one with 'mtlhost export --format onnx --checkpoint DIR --out DIR'.");
        }
        OnnxModelDescription? description;
        try
        {
            description = JsonSerializer.Deserialize<OnnxModelDescription>(File.ReadAllText(path), Options);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{path}' is not a valid ONNX export description ({e.Message}); export the checkpoint again.", e);
        }
        if (description is null || description.Format != CurrentFormat)
        {
            throw new InvalidDataException($"'{path}' is of format '{description?.Format}', but this library reads '{CurrentFormat}'; export the checkpoint again with this version.");
        }
        return description;
    }

    /// <summary>Writes the description into an export folder.</summary>
    /// <param name="directory">The export folder.</param>
    /// <returns>The file written.</returns>
    public string Write(string directory)
    {
        var path = Path.Combine(directory, FileName);
        File.WriteAllText(path, JsonSerializer.Serialize(this, Options));
        return path;
    }
}
