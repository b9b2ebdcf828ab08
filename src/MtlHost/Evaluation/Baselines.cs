using System.Text.Json;
using MtlHost.Formats;
using MtlHost.Core.Evaluation;

namespace MtlHost.Evaluation;

/// <summary>
/// Stored single-task baselines (<c>baselines.json</c>): per task, the validation scores of a run
/// that trained that task alone, and the encoder, steps and seed of that run, so Δm% is only
/// compared against a like-for-like budget.
/// </summary>
/// <param name="Format">Format version of the file.</param>
/// <param name="Tasks">Task id to its baseline.</param>
public sealed record Baselines(int Format, IReadOnlyDictionary<string, TaskBaseline> Tasks)
{
    /// <summary>File name of stored baselines in a run folder.</summary>
    public const string FileName = "baselines.json";

    /// <summary>Current <see cref="Format"/>.</summary>
    public const int CurrentFormat = 1;

    /// <summary>Folder of a <c>--single-task</c> run that holds one sub-folder (with its <c>summary.json</c>) per task.</summary>
    public const string SingleTaskFolder = "single-task";

    private static readonly JsonSerializerOptions FileOptions = new(HostJson.Options) { WriteIndented = true };

    /// <summary>The baselines as Δm% inputs.</summary>
    /// <returns>One entry per task, in file order.</returns>
    public IReadOnlyList<TaskMetrics> ToTaskMetrics() =>
        Tasks.Select(t => new TaskMetrics(t.Key, t.Value.Primary, t.Value.HigherIsBetter, t.Value.Scores)).ToList();

    /// <summary>Builds baselines from the summaries of single-task runs (one per task; a summary with several tasks gives all of them).</summary>
    /// <param name="summaryPaths">Paths of <c>summary.json</c> files, or the run folders holding them.</param>
    /// <returns>The baselines; tasks without validation results are left out.</returns>
    /// <exception cref="InvalidDataException">A summary is missing or has no validation results, or two summaries give the same task.</exception>
    public static Baselines FromSummaries(IEnumerable<string> summaryPaths)
    {
        var tasks = new Dictionary<string, TaskBaseline>(StringComparer.Ordinal);
        foreach (var summaryPath in summaryPaths)
        {
            var run = RunScores.Read(summaryPath);
            foreach (var task in run.Tasks)
            {
                if (tasks.TryGetValue(task.TaskId, out var earlier))
                {
                    throw new InvalidDataException(
                        $"Task '{task.TaskId}' has a baseline in both '{earlier.Source}' and '{run.SummaryPath}'; give one single-task run per task.");
                }
                tasks[task.TaskId] = new TaskBaseline(task.Primary, task.PrimaryHigherIsBetter, task.PrimaryValue, task.Scores,
                    run.Encoder, run.Steps, run.Seed, run.SummaryPath);
            }
        }
        if (tasks.Count == 0)
        {
            throw new InvalidDataException("No summary.json was given to build baselines from; give one single-task run folder per task.");
        }
        return new Baselines(CurrentFormat, tasks);
    }

    /// <summary>Writes the file (indented JSON, the settings of <see cref="HostJson"/>).</summary>
    /// <param name="path">Destination; its folder is created if needed.</param>
    public void Write(string path)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null)
        {
            Directory.CreateDirectory(folder);
        }
        File.WriteAllText(path, JsonSerializer.Serialize(this, FileOptions));
    }

    /// <summary>Reads a <c>baselines.json</c>.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The baselines.</returns>
    /// <exception cref="InvalidDataException">The file is missing or not a baselines file; the message names it and the fix.</exception>
    public static Baselines Read(string path)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new InvalidDataException($"Baselines file '{full}' does not exist; run 'mtlhost train --single-task --out DIR' to make DIR/{FileName}.");
        }
        Baselines? baselines;
        try
        {
            baselines = JsonSerializer.Deserialize<Baselines>(File.ReadAllText(full), HostJson.Options);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"Baselines file '{full}' is not valid ({e.Message}); make it again with 'mtlhost train --single-task'.");
        }
        if (baselines?.Tasks is null || baselines.Tasks.Count == 0)
        {
            throw new InvalidDataException($"Baselines file '{full}' has no tasks; make it again with 'mtlhost train --single-task'.");
        }
        if (baselines.Format != CurrentFormat)
        {
            throw new InvalidDataException($"Baselines file '{full}' has format {baselines.Format}; this host reads format {CurrentFormat}. Make it again with this host's 'mtlhost train --single-task'.");
        }
        var broken = baselines.Tasks.FirstOrDefault(t => t.Value?.Primary is null || t.Value.Scores is null);
        if (broken.Key is not null)
        {
            throw new InvalidDataException($"Baselines file '{full}': task '{broken.Key}' has no 'primary' or 'scores'; make the file again with 'mtlhost train --single-task'.");
        }
        return baselines;
    }

    /// <summary>
    /// Loads baselines from what a user points at: a <c>baselines.json</c>, a run's <c>summary.json</c>,
    /// or a folder holding <c>baselines.json</c>, a <c>single-task/*/summary.json</c> set, or a <c>summary.json</c> (in that order).
    /// </summary>
    /// <param name="fileOrRunDirectory">File or folder.</param>
    /// <returns>The baselines.</returns>
    /// <exception cref="InvalidDataException">Nothing usable is there; the message names the path and the fix.</exception>
    public static Baselines Load(string fileOrRunDirectory)
    {
        var full = Path.GetFullPath(fileOrRunDirectory);
        if (Directory.Exists(full))
        {
            var file = Path.Combine(full, FileName);
            if (File.Exists(file))
            {
                return Read(file);
            }
            var singleTask = Path.Combine(full, SingleTaskFolder);
            var summaries = Directory.Exists(singleTask)
                ? Directory.GetDirectories(singleTask).Select(d => Path.Combine(d, RunScores.SummaryFileName)).Where(File.Exists).Order(StringComparer.Ordinal).ToList()
                : [];
            if (summaries.Count > 0)
            {
                return FromSummaries(summaries);
            }
            if (File.Exists(Path.Combine(full, RunScores.SummaryFileName)))
            {
                return FromSummaries([full]);
            }
            throw new InvalidDataException(
                $"'{full}' holds neither {FileName}, {SingleTaskFolder}/*/{RunScores.SummaryFileName} nor {RunScores.SummaryFileName}; " +
                $"point --baselines at the --out folder of 'mtlhost train --single-task' or at a {FileName} file.");
        }
        if (!File.Exists(full))
        {
            throw new InvalidDataException($"Baselines '{full}' do not exist; point --baselines at a {FileName} file or the --out folder of 'mtlhost train --single-task'.");
        }

        // A summary's 'tasks' is a list; a baselines file's is an object keyed by task id.
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(full));
            if (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("tasks", out var tasks)
                && tasks.ValueKind == JsonValueKind.Array)
            {
                return FromSummaries([full]);
            }
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"Baselines file '{full}' is not valid JSON ({e.Message}); make it again with 'mtlhost train --single-task'.");
        }
        return Read(full);
    }
}
