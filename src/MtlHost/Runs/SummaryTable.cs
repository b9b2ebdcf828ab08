using System.Globalization;
using System.Text.Json;
using MtlHost.Formats;

namespace MtlHost.Runs;

/// <summary>Prints a run summary as a fixed-width table for people, or as one JSON object.</summary>
public static class SummaryTable
{
    /// <summary>Prints the summary as <c>train</c> does: the table, or with <paramref name="json"/> one line of JSON.</summary>
    /// <param name="output">Destination.</param>
    /// <param name="summary">The summary.</param>
    /// <param name="json">Whether to print JSON (<c>--json</c>).</param>
    public static void Print(TextWriter output, RunSummary summary, bool json)
    {
        if (json)
        {
            output.WriteLine(JsonSerializer.Serialize(summary, HostJson.Options));
        }
        else
        {
            Write(output, summary);
        }
    }

    /// <summary>Writes the table.</summary>
    /// <param name="output">Destination.</param>
    /// <param name="summary">The summary.</param>
    public static void Write(TextWriter output, RunSummary summary)
    {
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{(summary.SingleTask ? "trained each task alone for " : "trained ")}{summary.Steps} steps in {summary.Seconds:F1} s ({summary.StepsPerSecond:F2} steps/s), " +
            $"encoder {summary.Encoder} on {summary.Device}, sampler {summary.Sampler}, weighting {summary.Weighting}, sharing {summary.Sharing}"));
        var rows = new List<string[]> { new[] { "task", "plugin", "state", "steps", "train loss", "val loss", "primary", "score", "baseline", "other scores" } };
        foreach (var task in summary.Tasks)
        {
            rows.Add([task.Id, task.Plugin, task.State, task.Steps.ToString(CultureInfo.InvariantCulture), Format(task.TrainLoss), .. ScoreCells(task.Validation)]);
        }
        WriteAligned(output, rows);
        foreach (var task in summary.Tasks.Where(t => t.QuarantineReason is not null))
        {
            output.WriteLine($"quarantined {task.Id}: {task.QuarantineReason}");
        }
        foreach (var refusal in summary.Refused)
        {
            output.WriteLine($"refused {refusal.Plugin}{(refusal.Task is null ? "" : "/" + refusal.Task)}: {refusal.Reason}");
        }
        if (summary.Best is { } best)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"best: step {best.Step}, {best.Measure} {best.Score:F4}, checkpoint {best.Checkpoint}"));
        }
        output.WriteLine($"checkpoint: {summary.Checkpoint}");
    }

    /// <summary>
    /// The cells of an evaluation's columns — loss, primary score name, score, trivial baseline, other scores — as the
    /// run table shows them, so that every table of scores reads the same; dashes when there is no result.
    /// </summary>
    /// <param name="result">The result, or <see langword="null"/>.</param>
    /// <returns>Five cells.</returns>
    internal static string[] ScoreCells(RunSummary.ValidationResult? result) =>
    [
        Format(result?.Loss), result?.Primary ?? "-", Format(result?.Score), Format(result?.Baseline),
        result is null ? "" : string.Join(" ", result.Scores.Where(s => s.Key != result.Primary).Select(s => $"{s.Key}={Format(s.Value)}")),
    ];

    /// <summary>Writes rows (the first is the header) in columns as wide as their widest cell, two spaces apart.</summary>
    /// <param name="output">Destination.</param>
    /// <param name="rows">The rows, all of the same length.</param>
    internal static void WriteAligned(TextWriter output, IReadOnlyList<string[]> rows)
    {
        var widths = Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        foreach (var row in rows)
        {
            output.WriteLine(string.Join("  ", row.Select((cell, c) => cell.PadRight(widths[c]))).TrimEnd());
        }
    }

    private static string Format(double? value) =>
        value is { } v && double.IsFinite(v) ? v.ToString("F4", CultureInfo.InvariantCulture) : "-";
}
