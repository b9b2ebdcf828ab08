using MtlHost.Core.Export.Onnx;
using MtlHost.Core.Inference;
using MtlHost.Inference.Onnx;

namespace MtlHost.Commands;

/// <summary>
/// Measures an <see cref="Int8Calibration"/> for a checkpoint: exports its calibration probe
/// (<see cref="OnnxCheckpointExporter.ExportCalibrationProbe"/>), runs it with ONNX Runtime on each calibration text alone,
/// encoded as its task encodes it, and keeps every channel's largest |activation|.
/// </summary>
public static class Int8Calibrator
{
    /// <summary>Measures the activation maxima.</summary>
    /// <param name="checkpoint">The checkpoint folder.</param>
    /// <param name="texts">
    /// Calibration texts with the task each comes from (so a token task's text is encoded word by word): training texts, never
    /// the ones the export is judged on. Texts of tasks the export leaves out are skipped.
    /// </param>
    /// <param name="alpha">SmoothQuant's migration strength (<see cref="Int8Calibration.Alpha"/>).</param>
    /// <param name="threads">ONNX Runtime intra-op threads.</param>
    /// <returns>The calibration.</returns>
    /// <exception cref="ArgumentException">No text belongs to an exported task.</exception>
    public static Int8Calibration Measure(string checkpoint, IReadOnlyList<(string TaskId, PredictionInput Input)> texts,
        float alpha = Int8Calibration.DefaultAlpha, int threads = 1)
    {
        var work = Path.Combine(Path.GetTempPath(), $"mtlhost-int8-calibration-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            var (probe, outputs) = OnnxCheckpointExporter.ExportCalibrationProbe(checkpoint, work);
            using var predictor = OnnxMultiTaskPredictor.Load(probe.Directory, new OnnxPredictorOptions { IntraOpThreads = threads });
            var tasks = predictor.Tasks.ToDictionary(t => t.Id, StringComparer.Ordinal);
            var maxima = new Dictionary<string, float[]>(StringComparer.Ordinal);
            var measured = 0;
            foreach (var (taskId, input) in texts)
            {
                if (!tasks.TryGetValue(taskId, out var task) || string.IsNullOrWhiteSpace(input.Text))
                {
                    continue;
                }
                // One text per run: a padded batch would count the padding's activations too.
                var runs = predictor.Run(predictor.Encode([input], [task]), outputs);
                foreach (var output in outputs)
                {
                    var values = runs[output].Values;
                    var site = output[OnnxCheckpointExporter.CalibrationOutputPrefix.Length..];
                    if (!maxima.TryGetValue(site, out var channels))
                    {
                        maxima[site] = channels = new float[values.Length];
                    }
                    for (var c = 0; c < values.Length; c++)
                    {
                        channels[c] = Math.Max(channels[c], values[c]);
                    }
                }
                measured++;
            }
            if (measured == 0)
            {
                throw new ArgumentException($"None of the {texts.Count} calibration texts belongs to a task of the export ({string.Join(", ", tasks.Keys)}).", nameof(texts));
            }
            return new Int8Calibration(maxima, alpha);
        }
        finally
        {
            try
            {
                Directory.Delete(work, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
