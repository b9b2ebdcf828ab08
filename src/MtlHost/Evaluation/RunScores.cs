using System.Globalization;
using System.Text.Json;
using MtlHost.Core.Evaluation;

namespace MtlHost.Evaluation;

/// <summary>The validation scores a run saved in its <c>summary.json</c>, read for comparison.</summary>
/// <param name="Name">The run folder's name (the folder holding <c>summary.json</c>).</param>
/// <param name="SummaryPath">Full path of the <c>summary.json</c> read.</param>
/// <param name="Encoder">Encoder of the run.</param>
/// <param name="Steps">Steps of the run.</param>
/// <param name="Seed">Seed of the run, from its checkpoint's manifest when that can be found.</param>
/// <param name="Tasks">Tasks with validation scores.</param>
/// <param name="Unevaluated">Tasks of the run without validation scores (quarantined, or never evaluated).</param>
public sealed record RunScores(string Name, string SummaryPath, string Encoder, int Steps, int? Seed,
    IReadOnlyList<TaskMetrics> Tasks, IReadOnlyList<string> Unevaluated)
{
    /// <summary>File name of a run's summary.</summary>
    public const string SummaryFileName = "summary.json";

    /// <summary>
    /// Reads a run: a folder holding <c>summary.json</c>, or the path of that file. Read leniently by
    /// field, not as <see cref="Runs.RunSummary"/>, so summaries of older or newer hosts still compare.
    /// </summary>
    /// <param name="runDirectoryOrSummary">Run folder or <c>summary.json</c> path.</param>
    /// <returns>The scores.</returns>
    /// <exception cref="InvalidDataException">The file is missing, not a run summary, or has no validation results; the message names the file and the fix.</exception>
    public static RunScores Read(string runDirectoryOrSummary)
    {
        var path = Path.GetFullPath(runDirectoryOrSummary);
        if (Directory.Exists(path))
        {
            path = Path.Combine(path, SummaryFileName);
        }
        if (!File.Exists(path))
        {
            throw new InvalidDataException(
                $"'{path}' does not exist; give a run folder holding {SummaryFileName} (the --out folder of 'mtlhost train') or the path of that file.");
        }

        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path));
            root = document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{path}' is not valid JSON ({e.Message}); it should be the {SummaryFileName} written by 'mtlhost train'.");
        }
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("tasks", out var tasks) || tasks.ValueKind != JsonValueKind.Array)
        {
            throw new InvalidDataException($"'{path}' is not a run summary (no 'tasks' list); give the {SummaryFileName} written by 'mtlhost train'.");
        }

        var evaluated = new List<TaskMetrics>();
        var unevaluated = new List<string>();
        foreach (var task in tasks.EnumerateArray())
        {
            var id = task.TryGetProperty("id", out var idElement) && idElement.ValueKind == JsonValueKind.String ? idElement.GetString()! : null;
            if (id is null)
            {
                throw new InvalidDataException($"'{path}': a task has no 'id'; the file is not a summary written by 'mtlhost train'.");
            }
            if (!task.TryGetProperty("validation", out var validation) || validation.ValueKind != JsonValueKind.Object)
            {
                unevaluated.Add(id);
                continue;
            }
            evaluated.Add(ReadValidation(path, id, validation));
        }
        if (evaluated.Count == 0)
        {
            throw new InvalidDataException(
                $"'{path}' has no validation results for any task{(unevaluated.Count > 0 ? $" ({string.Join(", ", unevaluated)})" : "")}; " +
                "train again with tasks that have a validation split and let the run finish (it evaluates at the end).");
        }

        var encoder = root.TryGetProperty("encoder", out var e2) && e2.ValueKind == JsonValueKind.String ? e2.GetString()! : "?";
        var steps = root.TryGetProperty("steps", out var s) && s.TryGetInt32(out var st) ? st : 0;
        var seed = root.TryGetProperty("seed", out var sd) && sd.ValueKind == JsonValueKind.Number && sd.TryGetInt32(out var sv)
            ? sv
            : SeedFromCheckpoint(path, root);
        var name = Path.GetFileName(Path.GetDirectoryName(path)!);
        return new RunScores(name, path, encoder, steps, seed, evaluated, unevaluated);
    }

    private static TaskMetrics ReadValidation(string path, string id, JsonElement validation)
    {
        if (!validation.TryGetProperty("primary", out var primaryElement) || primaryElement.ValueKind != JsonValueKind.String
            || !validation.TryGetProperty("higherIsBetter", out var direction) || direction.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            throw new InvalidDataException($"'{path}': task '{id}' has validation results without 'primary' and 'higherIsBetter'; it is not a summary written by 'mtlhost train'.");
        }
        var primary = primaryElement.GetString()!;
        var scores = new Dictionary<string, double>(StringComparer.Ordinal);
        if (validation.TryGetProperty("scores", out var scoresElement) && scoresElement.ValueKind == JsonValueKind.Object)
        {
            foreach (var score in scoresElement.EnumerateObject())
            {
                scores[score.Name] = Number(score.Value);
            }
        }
        if (!scores.ContainsKey(primary) && validation.TryGetProperty("score", out var scoreElement))
        {
            scores[primary] = Number(scoreElement);
        }
        return new TaskMetrics(id, primary, direction.GetBoolean(), scores);
    }

    // Summaries write NaN and infinities as strings (HostJson allows named literals).
    private static double Number(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Number => element.GetDouble(),
        JsonValueKind.String when double.TryParse(element.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) => v,
        _ => double.NaN,
    };

    // summary.json does not carry the seed; the checkpoint manifest next to it does.
    private static int? SeedFromCheckpoint(string summaryPath, JsonElement root)
    {
        var candidates = new List<string> { Path.Combine(Path.GetDirectoryName(summaryPath)!, "checkpoint", "manifest.json") };
        if (root.TryGetProperty("checkpoint", out var checkpoint) && checkpoint.ValueKind == JsonValueKind.String)
        {
            candidates.Insert(0, Path.Combine(checkpoint.GetString()!, "manifest.json"));
        }
        foreach (var candidate in candidates.Where(File.Exists))
        {
            try
            {
                using var manifest = JsonDocument.Parse(File.ReadAllText(candidate));
                if (manifest.RootElement.TryGetProperty("seed", out var seed) && seed.TryGetInt32(out var value))
                {
                    return value;
                }
            }
            catch (JsonException)
            {
                // A broken manifest only costs the seed in the baselines file, not the comparison.
            }
        }
        return null;
    }
}
