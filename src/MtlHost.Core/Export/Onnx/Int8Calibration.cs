namespace MtlHost.Core.Export.Onnx;

/// <summary>
/// What an int8 export learns from calibration texts, measured by running the export's calibration probe
/// (<see cref="OnnxCheckpointExporter.ExportCalibrationProbe"/>) on training texts: at each input of the encoder's quantized
/// matrix multiplications, the largest |activation| of every channel, to smooth the activations with (SmoothQuant, Xiao et
/// al. 2023) with migration strength <see cref="Alpha"/>; and the channels' correlation, to round the weights with
/// (<see cref="GptqRounding"/>).
/// </summary>
/// <param name="ActivationMaxima">
/// Per-channel max |x| by site (<see cref="CalibrationProbeOutput.Site"/>; the adapters branches' outputs of one site merged).
/// </param>
/// <param name="Alpha">
/// How much of an outlier channel's range moves into the weights: factor s = max|x|^α / max|w|^(1−α) per input channel.
/// </param>
/// <param name="InputCorrelations">
/// Σ x xᵀ over the calibration tokens by site, row-major [channels, channels] (<see cref="CalibrationProbeOutput.Site"/>),
/// for GPTQ's rounding; <see langword="null"/> rounds to nearest.
/// </param>
public sealed record Int8Calibration(IReadOnlyDictionary<string, float[]> ActivationMaxima, float Alpha = Int8Calibration.DefaultAlpha,
    IReadOnlyDictionary<string, float[]>? InputCorrelations = null)
{
    /// <summary>
    /// The α chosen by measurement on the sample tasks (see docs), with GPTQ rounding, which lets the weights take more of
    /// the activations' range: rounding to nearest (<see cref="InputCorrelations"/> <see langword="null"/>), 0.5 did better.
    /// </summary>
    public const float DefaultAlpha = 0.65f;
}
