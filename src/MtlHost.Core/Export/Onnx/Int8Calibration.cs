namespace MtlHost.Core.Export.Onnx;

/// <summary>
/// What an int8 export needs to smooth its activations (SmoothQuant, Xiao et al. 2023): at each input of the encoder's
/// quantized matrix multiplications, the largest |activation| of every channel, measured by running the export's
/// calibration probe (<see cref="OnnxCheckpointExporter.ExportCalibrationProbe"/>) on training texts, and the migration
/// strength <see cref="Alpha"/>.
/// </summary>
/// <param name="ActivationMaxima">
/// Per-channel max |x| by site: the probe's output names without <see cref="OnnxCheckpointExporter.CalibrationOutputPrefix"/>.
/// </param>
/// <param name="Alpha">
/// How much of an outlier channel's range moves into the weights: factor s = max|x|^α / max|w|^(1−α) per input channel.
/// </param>
public sealed record Int8Calibration(IReadOnlyDictionary<string, float[]> ActivationMaxima, float Alpha = Int8Calibration.DefaultAlpha)
{
    /// <summary>The α chosen by measurement on the sample tasks (see docs).</summary>
    public const float DefaultAlpha = 0.5f;
}
