namespace MtlHost.Core.Export.Onnx;

/// <summary>One output of the calibration probe (<see cref="OnnxCheckpointExporter.ExportCalibrationProbe"/>).</summary>
/// <param name="Name">The model output's name.</param>
/// <param name="IsCorrelation">Whether it is Σ x xᵀ over the run's tokens, [channels, channels]; else max |x| per channel, [channels].</param>
/// <param name="Site">
/// The quantized input it measures: a key of <see cref="Int8Calibration.ActivationMaxima"/> and
/// <see cref="Int8Calibration.InputCorrelations"/>. The adapters branches all run the shared encoder's weights, so each of
/// them has its own outputs for the same site.
/// </param>
/// <param name="Branch">
/// The encoder branch whose tasks' texts reach the site when predicting, or <see langword="null"/> for every task's (the
/// shared layers).
/// </param>
public sealed record CalibrationProbeOutput(string Name, bool IsCorrelation, string Site, string? Branch);
