using System.Text.Json.Serialization;
using MtlHost.Commands;

using MtlHost.Runs;

namespace MtlHost.Eval;

/// <summary>What <c>mtlhost eval</c> found: every task of a checkpoint scored on one split.</summary>
/// <param name="Checkpoint">The checkpoint folder, absolute.</param>
/// <param name="Step">Training step at which the checkpoint was written.</param>
/// <param name="Encoder">Catalog name of its encoder.</param>
/// <param name="Split">The split evaluated on: <c>validation</c> or <c>test</c>.</param>
/// <param name="Seconds">Time to load and evaluate.</param>
/// <param name="Tasks">One entry per task of the checkpoint, in id order.</param>
public sealed record CheckpointEvaluation(string Checkpoint, int Step, string Encoder, string Split, double Seconds,
    IReadOnlyList<CheckpointEvaluation.TaskResult> Tasks)
{
    /// <summary>Whether a task's plugin code failed, so the evaluation is incomplete for a reason other than the data.</summary>
    [JsonIgnore]
    public bool AnyFailed => Tasks.Any(t => t.Outcome == TaskEvaluationOutcome.Failed);

    /// <summary>One task's evaluation.</summary>
    /// <param name="Id">Task id.</param>
    /// <param name="Version">Task version the checkpoint records.</param>
    /// <param name="Plugin">Plugin name.</param>
    /// <param name="State">Its state in the checkpoint: <c>Training</c>, <c>Quarantined</c> or <c>Removed</c>.</param>
    /// <param name="Outcome">Whether it was evaluated, and if not, why not.</param>
    /// <param name="Result">
    /// Its scores on the split, with the trivial baseline, in the form <c>summary.json</c> gives validation results;
    /// <see langword="null"/> unless evaluated.
    /// </param>
    /// <param name="Note">Why there is no result (the data problem, the plugin's failure); <see langword="null"/> when evaluated.</param>
    public sealed record TaskResult(string Id, string Version, string Plugin, string State, TaskEvaluationOutcome Outcome,
        RunSummary.ValidationResult? Result, string? Note);
}

/// <summary>What became of one task in <c>mtlhost eval</c>.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<TaskEvaluationOutcome>))]
public enum TaskEvaluationOutcome
{
    /// <summary>Scored on the split.</summary>
    Evaluated,

    /// <summary>The split has no usable examples for it (no file, an empty one, or data the adapter refused).</summary>
    NoData,

    /// <summary>
    /// It cannot be rebuilt: the plugin of a task that had left training (quarantined or removed) is missing or changed,
    /// or its training split, which the trivial baseline and the loss are fitted to, cannot be read.
    /// </summary>
    Unavailable,

    /// <summary>The plugin's code threw while reading data or evaluating.</summary>
    Failed,
}
