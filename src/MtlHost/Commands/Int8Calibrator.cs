using MtlHost.Core.Export.Onnx;
using MtlHost.Core.Inference;
using MtlHost.Inference.Onnx;

namespace MtlHost.Commands;

/// <summary>
/// Measures an <see cref="Int8Calibration"/> for a checkpoint: exports its calibration probe
/// (<see cref="OnnxCheckpointExporter.ExportCalibrationProbe"/>), runs it with ONNX Runtime on the calibration texts, each
/// encoded as its task encodes it, and keeps every channel's largest |activation| and the sum of the inputs' correlations.
/// </summary>
public static class Int8Calibrator
{
    // Texts per probe run: Σ x xᵀ of the larger sites is copied out once per run, so one text per run would take long.
    private const int BatchSize = 16;

    /// <summary>Measures the activation maxima and input correlations.</summary>
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
            var sums = new Dictionary<string, double[]>(StringComparer.Ordinal);
            var measured = 0;
            var usable = texts.Where(t => tasks.ContainsKey(t.TaskId) && !string.IsNullOrWhiteSpace(t.Input.Text));
            // A batch holds one task's texts, encoded as that task encodes them; the probe leaves the padding out.
            foreach (var batch in usable.Chunk(BatchSize).SelectMany(chunk => chunk.GroupBy(t => t.TaskId, StringComparer.Ordinal)))
            {
                var runs = predictor.Run(predictor.Encode(batch.Select(t => t.Input).ToList(), [tasks[batch.Key]]), outputs);
                foreach (var output in outputs)
                {
                    var (correlation, site, branch) = OnnxCheckpointExporter.ReadProbeOutput(output);
                    // A branch's layers see their own tasks' texts only, when predicting.
                    if (branch is not null && branch != tasks[batch.Key].Branch)
                    {
                        continue;
                    }
                    var values = runs[output].Values;
                    if (correlation)
                    {
                        if (!sums.TryGetValue(site, out var sum))
                        {
                            sums[site] = sum = new double[values.Length];
                        }
                        for (var i = 0; i < values.Length; i++)
                        {
                            sum[i] += values[i];
                        }
                    }
                    else
                    {
                        if (!maxima.TryGetValue(site, out var channels))
                        {
                            maxima[site] = channels = new float[values.Length];
                        }
                        for (var c = 0; c < values.Length; c++)
                        {
                            channels[c] = Math.Max(channels[c], values[c]);
                        }
                    }
                }
                measured += batch.Count();
            }
            if (measured == 0)
            {
                throw new ArgumentException($"None of the {texts.Count} calibration texts belongs to a task of the export ({string.Join(", ", tasks.Keys)}).", nameof(texts));
            }
            var correlations = sums.ToDictionary(s => s.Key, s => Array.ConvertAll(s.Value, v => (float)v), StringComparer.Ordinal);
            return new Int8Calibration(maxima, alpha, correlations);
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
