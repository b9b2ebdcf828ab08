using System.Globalization;
using System.Text.Json;
using MtlHost.Formats;
using MtlHost.Cli;
using MtlHost.Core.Evaluation;
using MtlHost.Evaluation;

namespace MtlHost.Commands;

/// <summary>
/// <c>mtlhost compare --baselines FILE_OR_RUN_DIR RUN_DIR [RUN_DIR...] [--all-metrics] [--json]</c>:
/// one table of per-task primary scores (baseline, then each run) with each run's Δm% against the baselines.
/// </summary>
public static class CompareCommand
{
    /// <summary>Runs the command.</summary>
    /// <param name="command">The parsed command line.</param>
    /// <param name="output">Standard output.</param>
    /// <returns>The exit code (0); bad input is a <see cref="UsageException"/> (exit 2).</returns>
    /// <exception cref="UsageException">A file is missing or unusable, or a run has no task in common with the baselines.</exception>
    public static int Run(ParsedCommand command, TextWriter output)
    {
        var baselinesPath = command.Get("baselines")
            ?? throw new UsageException("mtlhost compare: say where the baselines are: --baselines FILE_OR_RUN_DIR (baselines.json, or the --out folder of 'mtlhost train --single-task').");
        if (command.Arguments.Count == 0)
        {
            throw new UsageException("mtlhost compare: give at least one run folder (the --out folder of 'mtlhost train') after the options.");
        }
        var scope = command.Has("all-metrics") ? DeltaMScope.AllKnownMetrics : DeltaMScope.Primary;

        var baselines = Load(() => Baselines.Load(baselinesPath));
        var baseMetrics = baselines.ToTaskMetrics();
        var runs = new List<(RunScores Run, string Name, DeltaMResult Delta, List<string> Notes)>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var argument in command.Arguments)
        {
            var run = Load(() => RunScores.Read(argument));
            var delta = DeltaM.Compute(baseMetrics, run.Tasks, scope);
            if (delta.Tasks.Count == 0)
            {
                throw new UsageException(
                    $"mtlhost compare: '{run.SummaryPath}' has no task in common with the baselines (run: {string.Join(", ", run.Tasks.Select(t => t.TaskId))}; " +
                    $"baselines: {string.Join(", ", baselines.Tasks.Keys)}); compare runs of the same plugins, or make baselines for these tasks with 'mtlhost train --single-task'.");
            }
            // Two runs in folders of the same name (a/out, b/out) still need distinct columns.
            var name = run.Name;
            for (var k = 2; !names.Add(name); k++)
            {
                name = $"{run.Name}#{k}";
            }
            runs.Add((run, name, delta, Notes(run, baselines, delta)));
        }

        var taskIds = baselines.Tasks.Keys.Concat(runs.SelectMany(r => r.Run.Tasks.Select(t => t.TaskId)))
            .Distinct(StringComparer.Ordinal).ToList();
        if (command.Has("json"))
        {
            WriteJson(output, baselinesPath, scope, baselines, taskIds, runs);
        }
        else
        {
            WriteTable(output, baselinesPath, scope, baselines, taskIds, runs);
        }
        return MtlHostApplication.Success;
    }

    private static T Load<T>(Func<T> read)
    {
        try
        {
            return read();
        }
        catch (InvalidDataException e)
        {
            throw new UsageException($"mtlhost compare: {e.Message}");
        }
    }

    private static List<string> Notes(RunScores run, Baselines baselines, DeltaMResult delta)
    {
        var notes = new List<string>(delta.Notes);
        notes.AddRange(run.Unevaluated.Select(id => $"{id}: no validation results in the run (quarantined or not evaluated)."));
        // Δm% is only meaningful at a like-for-like budget; say so when the baseline's differs.
        foreach (var task in delta.Tasks)
        {
            var b = baselines.Tasks[task.TaskId];
            if (b.Encoder != run.Encoder || b.Steps != run.Steps)
            {
                notes.Add($"{task.TaskId}: baseline trained with encoder {b.Encoder} for {b.Steps} steps, the run with {run.Encoder} for {run.Steps}.");
            }
        }
        return notes;
    }

    private static void WriteTable(TextWriter output, string baselinesPath, DeltaMScope scope, Baselines baselines, List<string> taskIds,
        List<(RunScores Run, string Name, DeltaMResult Delta, List<string> Notes)> runs)
    {
        output.WriteLine($"Δm% against the baselines of {Path.GetFullPath(baselinesPath)} " +
            (scope == DeltaMScope.Primary ? "(primary score of each task)" : "(every score with a known direction, averaged per task)"));
        var rows = new List<string[]> { new[] { "task", "primary", "better", "baseline" }.Concat(runs.Select(r => r.Name)).ToArray() };
        foreach (var id in taskIds)
        {
            baselines.Tasks.TryGetValue(id, out var b);
            var first = b is null ? runs.Select(r => r.Run.Tasks.FirstOrDefault(t => t.TaskId == id)).First(t => t is not null)! : null;
            var primary = b?.Primary ?? first!.Primary;
            var higher = b?.HigherIsBetter ?? first!.PrimaryHigherIsBetter;
            rows.Add(new[] { id, primary, higher ? "higher" : "lower", Format(b?.Score) }
                .Concat(runs.Select(r => Format(r.Run.Tasks.FirstOrDefault(t => t.TaskId == id)?.Scores.GetValueOrDefault(primary, double.NaN))))
                .ToArray());
        }
        rows.Add(new[] { "Δm%", "", "", "" }.Concat(runs.Select(r => r.Delta.Percent is { } p ? p.ToString("+0.00;-0.00;0.00", CultureInfo.InvariantCulture) : "-")).ToArray());

        var widths = Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        foreach (var row in rows)
        {
            output.WriteLine(string.Join("  ", row.Select((cell, c) => cell.PadRight(widths[c]))).TrimEnd());
        }
        foreach (var (_, name, delta, notes) in runs)
        {
            output.WriteLine($"{name}: Δm% over {delta.CountedTasks} task(s)" + (delta.Percent is null ? ": none could be compared" : ""));
            foreach (var note in notes)
            {
                output.WriteLine($"  {note}");
            }
        }
    }

    private static void WriteJson(TextWriter output, string baselinesPath, DeltaMScope scope, Baselines baselines, List<string> taskIds,
        List<(RunScores Run, string Name, DeltaMResult Delta, List<string> Notes)> runs)
    {
        var result = new
        {
            baselines = Path.GetFullPath(baselinesPath),
            scope = scope == DeltaMScope.Primary ? "primary" : "all-metrics",
            tasks = taskIds.Select(id =>
            {
                baselines.Tasks.TryGetValue(id, out var b);
                var primary = b?.Primary ?? runs.Select(r => r.Run.Tasks.FirstOrDefault(t => t.TaskId == id)).First(t => t is not null)!.Primary;
                return new
                {
                    id,
                    primary,
                    baseline = b?.Score,
                    runs = runs.ToDictionary(r => r.Name, r => r.Run.Tasks.FirstOrDefault(t => t.TaskId == id)?.Scores.GetValueOrDefault(primary, double.NaN)),
                };
            }).ToList(),
            runs = runs.Select(r => new
            {
                name = r.Name,
                summary = r.Run.SummaryPath,
                deltaM = r.Delta.Percent,
                countedTasks = r.Delta.CountedTasks,
                tasks = r.Delta.Tasks,
                missingFromRun = r.Delta.MissingFromRun,
                missingFromBaseline = r.Delta.MissingFromBaseline,
                notes = r.Notes,
            }).ToList(),
        };
        output.WriteLine(JsonSerializer.Serialize(result, HostJson.Options));
    }

    private static string Format(double? value) =>
        value is { } v && double.IsFinite(v) ? v.ToString("F4", CultureInfo.InvariantCulture) : "-";
}
