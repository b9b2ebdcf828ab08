using System.Text.Json;
using MtlHost.Core.Inference;
using MtlHost.Predictions;

namespace MtlHost.Benchmarks;

/// <summary>
/// Per task, the validation examples of its plugin's data (<c>data/&lt;task&gt;/validation.jsonl</c>) predicted by several
/// predictors: each one's primary score (macro-F1, micro-F1, token accuracy or Pearson, as the sample tasks' metrics define
/// them) and how often two predictors predict the same.
/// </summary>
public static class ValidationQuality
{
    /// <summary>One validation example: the text and its target (label, label set, word labels or value).</summary>
    public sealed record Example(string Text, string? Label, IReadOnlyList<string>? Labels, IReadOnlyList<string?>? WordLabels, double? Value);

    /// <summary>Reads a task's validation examples (or those of another split) from a plugins folder.</summary>
    /// <param name="plugins">The plugins folder.</param>
    /// <param name="taskId">The task.</param>
    /// <param name="limit">At most this many, the file's first.</param>
    /// <param name="split"><c>validation</c>, or <c>train</c> for calibration texts.</param>
    /// <returns>The examples, or none when the task has no such file.</returns>
    public static IReadOnlyList<Example> Read(string plugins, string taskId, int limit, string split = "validation")
    {
        var file = Directory.GetDirectories(plugins).Select(p => Path.Combine(p, "data", taskId, split + ".jsonl")).FirstOrDefault(File.Exists);
        if (file is null)
        {
            return [];
        }
        return File.ReadLines(file).Where(l => l.Length > 0).Take(limit).Select(line =>
        {
            var row = JsonDocument.Parse(line).RootElement;
            string? Text(string name) => row.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            var words = row.TryGetProperty("words", out var w) ? w.EnumerateArray().Select(x => x.GetString()!).ToList() : null;
            return new Example(
                Text("text") ?? string.Join(' ', words ?? []),
                Text("label"),
                row.TryGetProperty("labels", out var l) ? l.EnumerateArray().Select(x => x.GetString()!).ToList() : null,
                row.TryGetProperty("word_labels", out var wl) ? wl.EnumerateArray().Select(x => x.ValueKind == JsonValueKind.Null ? null : x.GetString()).ToList() : null,
                row.TryGetProperty("value", out var v) ? v.GetDouble() : null);
        }).ToList();
    }

    /// <summary>The primary score of predictions against the examples' targets, by the task's kind.</summary>
    /// <returns>The score's name and value.</returns>
    public static (string Name, double Value) Score(string kind, IReadOnlyList<Example> examples, IReadOnlyList<TaskPrediction> predictions)
    {
        switch (kind)
        {
            case TaskKindNames.MultiLabelClassification:
            {
                long tp = 0, fp = 0, fn = 0;
                foreach (var (example, prediction) in examples.Zip(predictions))
                {
                    var gold = example.Labels!.ToHashSet();
                    var predicted = prediction.Labels!.ToHashSet();
                    tp += predicted.Count(gold.Contains);
                    fp += predicted.Count(p => !gold.Contains(p));
                    fn += gold.Count(g => !predicted.Contains(g));
                }
                return ("micro_f1", 2 * tp + fp + fn == 0 ? 0 : 2.0 * tp / (2 * tp + fp + fn));
            }
            case TaskKindNames.TokenClassification:
            {
                var pairs = examples.Zip(predictions).SelectMany(p => p.First.WordLabels!.Zip(p.Second.Words!.Select(w => w.Label)))
                    .Where(p => p.First is not null).ToList();
                return ("token_accuracy", pairs.Count == 0 ? 0 : pairs.Count(p => p.First == p.Second) / (double)pairs.Count);
            }
            case TaskKindNames.Regression:
                return ("pearson", Pearson(examples.Select(e => e.Value!.Value).ToArray(), predictions.Select(p => p.Value!.Value).ToArray()));
            default:
            {
                // Mean F1 over the labels that occur in targets or predictions, as the SDK's ClassificationMetric.
                var pairs = examples.Zip(predictions, (e, p) => (Gold: e.Label!, Predicted: p.Label!)).ToList();
                var labels = pairs.Select(p => p.Gold).Concat(pairs.Select(p => p.Predicted)).Distinct().ToList();
                var f1 = labels.Select(label =>
                {
                    var tp = pairs.Count(p => p.Gold == label && p.Predicted == label);
                    var fp = pairs.Count(p => p.Gold != label && p.Predicted == label);
                    var fn = pairs.Count(p => p.Gold == label && p.Predicted != label);
                    return 2 * tp + fp + fn == 0 ? 0 : 2.0 * tp / (2 * tp + fp + fn);
                });
                return ("macro_f1", labels.Count == 0 ? 0 : f1.Average());
            }
        }
    }

    /// <summary>Whether two predictions are the same: label, label set (in any order) and word labels; a value within 0.05.</summary>
    /// <remarks>A multi-label prediction lists its labels by probability, so the same set can come in another order.</remarks>
    public static bool Agree(TaskPrediction a, TaskPrediction b) =>
        a.Label == b.Label
        && (a.Labels ?? []).Order(StringComparer.Ordinal).SequenceEqual((b.Labels ?? []).Order(StringComparer.Ordinal))
        && Math.Abs((a.Value ?? 0) - (b.Value ?? 0)) <= 0.05
        && (a.Words ?? []).Select(w => w.Label).SequenceEqual((b.Words ?? []).Select(w => w.Label));

    private static double Pearson(double[] x, double[] y)
    {
        var mx = x.Average();
        var my = y.Average();
        double sxy = 0, sxx = 0, syy = 0;
        for (var i = 0; i < x.Length; i++)
        {
            sxy += (x[i] - mx) * (y[i] - my);
            sxx += (x[i] - mx) * (x[i] - mx);
            syy += (y[i] - my) * (y[i] - my);
        }
        return sxx == 0 || syy == 0 ? 0 : sxy / Math.Sqrt(sxx * syy);
    }
}
