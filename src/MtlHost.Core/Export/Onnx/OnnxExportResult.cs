using MtlHost.Predictions.Onnx;

namespace MtlHost.Core.Export.Onnx;

/// <summary>What <see cref="OnnxCheckpointExporter.Export"/> wrote.</summary>
/// <param name="Directory">The export folder, absolute.</param>
/// <param name="Files">The files written, relative to <paramref name="Directory"/>.</param>
/// <param name="Quantization"><c>none</c> or <c>int8</c>.</param>
/// <param name="ModelBytes">Size of the ONNX model file.</param>
/// <param name="Tasks">The tasks whose heads are outputs of the model.</param>
/// <param name="NotExported">The checkpoint's tasks left out, with the reason.</param>
public sealed record OnnxExportResult(string Directory, IReadOnlyList<string> Files, string Quantization, long ModelBytes,
    IReadOnlyList<OnnxTaskOutput> Tasks, IReadOnlyList<OnnxSkippedTask> NotExported);
