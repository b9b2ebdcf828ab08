using System.Globalization;
using MtlHost.Eval;
using MtlHost.Runs;

namespace MtlHost.Commands;

/// <summary>Prints a checkpoint's evaluation (<c>mtlhost eval</c>) for people, in the columns of training's table.</summary>
public static class EvaluationTable
{
    /// <summary>Writes the table, then a line for each task without scores saying why.</summary>
    /// <param name="output">Destination.</param>
    /// <param name="evaluation">The evaluation.</param>
    public static void Write(TextWriter output, CheckpointEvaluation evaluation)
    {
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"evaluated checkpoint {evaluation.Checkpoint} (step {evaluation.Step}, encoder {evaluation.Encoder}) on the {evaluation.Split} split in {evaluation.Seconds:F1} s"));
        var loss = evaluation.Split == "validation" ? "val loss" : $"{evaluation.Split} loss";
        var rows = new List<string[]> { new[] { "task", "plugin", "state", "examples", loss, "primary", "score", "baseline", "other scores" } };
        foreach (var task in evaluation.Tasks)
        {
            var examples = task.Result?.Examples.ToString(CultureInfo.InvariantCulture) ?? "-";
            rows.Add([task.Id, task.Plugin, task.State, examples, .. SummaryTable.ScoreCells(task.Result)]);
        }
        SummaryTable.WriteAligned(output, rows);
        foreach (var task in evaluation.Tasks.Where(t => t.Note is not null))
        {
            output.WriteLine($"{Describe(task.Outcome)} {task.Id}: {task.Note}");
        }
    }

    private static string Describe(TaskEvaluationOutcome outcome) => outcome switch
    {
        TaskEvaluationOutcome.NoData => "not evaluated",
        TaskEvaluationOutcome.Unavailable => "unavailable",
        TaskEvaluationOutcome.Failed => "failed",
        _ => "note",
    };
}
