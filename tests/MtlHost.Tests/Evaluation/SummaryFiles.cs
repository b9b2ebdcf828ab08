using System.Text.Json;
using MtlHost.Formats;
using MtlHost.Runs;

namespace MtlHost.Tests.Evaluation;

/// <summary>Writes <c>summary.json</c> files as <c>mtlhost train</c> does, without training.</summary>
internal static class SummaryFiles
{
    /// <summary>A validated task: id, primary score and direction, every score.</summary>
    public static RunSummary.TaskResult Task(string id, string primary, bool higher, params (string Name, double Value)[] scores) =>
        new(id, "1.0.0", id + "-plugin", "Training", null, 10, 0.5,
            new RunSummary.ValidationResult(20, 0.4, primary, higher, scores.First(s => s.Name == primary).Value, 0.1,
                scores.ToDictionary(s => s.Name, s => s.Value)));

    /// <summary>A task that was never evaluated.</summary>
    public static RunSummary.TaskResult Unevaluated(string id) => new(id, "1.0.0", id + "-plugin", "Quarantined", "threw", 3, null, null);

    /// <summary>Writes <c>folder/summary.json</c> (and a checkpoint manifest with the seed, when given).</summary>
    public static string Write(string folder, int steps, int? seed, params RunSummary.TaskResult[] tasks)
    {
        Directory.CreateDirectory(folder);
        var checkpoint = Path.Combine(folder, "checkpoint");
        var summary = new RunSummary("tiny", "cpu", steps, 1.0, steps, checkpoint, tasks, []);
        var path = Path.Combine(folder, "summary.json");
        File.WriteAllText(path, JsonSerializer.Serialize(summary, HostJson.Options));
        if (seed is { } s)
        {
            Directory.CreateDirectory(checkpoint);
            File.WriteAllText(Path.Combine(checkpoint, "manifest.json"), $$"""{ "format": 1, "step": {{steps}}, "seed": {{s}} }""");
        }
        return path;
    }
}
