using MtlHost.Core.Export.Onnx;
using MtlHost.Core.Inference;
using MtlHost.Inference.Onnx;
using MtlHost.Predictions;

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
    /// <param name="threads">ONNX Runtime intra-op threads (0: its default, one per core).</param>
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
            // A pair task's text without its pair has no row to measure.
            var usable = texts.Where(t => tasks.TryGetValue(t.TaskId, out var task) && !string.IsNullOrWhiteSpace(t.Input.Text)
                                          && (task.Kind != TaskKindNames.PairClassification || !string.IsNullOrWhiteSpace(t.Input.Pair))).ToList();
            // A branch's layers see their own tasks' texts only when predicting, so only those measure them; a branch none
            // of whose tasks has a calibration text (a quarantined task's, say) is measured on every text rather than not at all.
            var covered = usable.Select(t => tasks[t.TaskId].Branch).OfType<string>().ToHashSet(StringComparer.Ordinal);
            // A batch holds one task's texts, encoded as that task encodes them; the probe leaves the padding out.
            foreach (var batch in usable.GroupBy(t => t.TaskId, StringComparer.Ordinal).SelectMany(task => task.Chunk(BatchSize).Select(chunk => (Task: tasks[task.Key], Texts: chunk))))
            {
                var wanted = outputs.Where(o => o.Branch is null || o.Branch == batch.Task.Branch || !covered.Contains(o.Branch)).ToList();
                var rows = predictor.Encode(batch.Texts.Select(t => t.Input).ToList(), [batch.Task]);
                var runs = predictor.Run(rows, wanted.Select(o => o.Name));
                foreach (var output in wanted)
                {
                    var values = runs[output.Name].Values;
                    if (output.IsCorrelation)
                    {
                        if (!sums.TryGetValue(output.Site, out var sum))
                        {
                            sums[output.Site] = sum = new double[values.Length];
                        }
                        for (var i = 0; i < values.Length; i++)
                        {
                            sum[i] += values[i];
                        }
                    }
                    else
                    {
                        if (!maxima.TryGetValue(output.Site, out var channels))
                        {
                            maxima[output.Site] = channels = new float[values.Length];
                        }
                        for (var c = 0; c < values.Length; c++)
                        {
                            channels[c] = Math.Max(channels[c], values[c]);
                        }
                    }
                }
                measured += rows.Rows.Count;
            }
            if (measured == 0)
            {
                throw new ArgumentException($"None of the {texts.Count} calibration texts belongs to a task of the export ({string.Join(", ", tasks.Keys)}) with a text (and a pair, for a pair task).", nameof(texts));
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
