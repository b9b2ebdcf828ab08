using MtlHost.Core.Training;

namespace MtlHost.Runs;

/// <summary>The result of <c>train</c>, printed as a table or (with <c>--json</c>) as one JSON object, and saved as <c>summary.json</c>.</summary>
/// <param name="Encoder">Encoder name.</param>
/// <param name="Device">Device name.</param>
/// <param name="Steps">Steps taken.</param>
/// <param name="Seconds">Training time, evaluation excluded.</param>
/// <param name="StepsPerSecond">Training speed.</param>
/// <param name="Checkpoint">Checkpoint folder.</param>
/// <param name="Tasks">Per-task results.</param>
/// <param name="Refused">Plugins and tasks that did not join the run, with reasons.</param>
public sealed record RunSummary(string Encoder, string Device, int Steps, double Seconds, double StepsPerSecond, string Checkpoint,
    IReadOnlyList<RunSummary.TaskResult> Tasks, IReadOnlyList<RunSummary.Refusal> Refused)
{
    /// <summary>Task sampler of the run.</summary>
    public string? Sampler { get; init; }

    /// <summary>Loss weighting of the run.</summary>
    public string? Weighting { get; init; }

    /// <summary>Encoder sharing strategy of the run.</summary>
    public string? Sharing { get; init; }

    /// <summary>Whether each task was trained alone (<c>--single-task</c>): the tasks' rows are single-task baselines.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public bool SingleTask { get; init; }

    /// <summary>The best periodic evaluation and where its checkpoint is (runs with <c>--eval-every</c> only).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public BestEvaluation? Best { get; init; }

    /// <summary>Hot reload's plugins, events and live load contexts (runs with <c>--watch</c> only).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public HotReload.HotReloadSummary? HotReload { get; init; }

    /// <summary>One task's result.</summary>
    /// <param name="Id">Task id.</param>
    /// <param name="Version">Task version.</param>
    /// <param name="Plugin">Plugin name.</param>
    /// <param name="State">Training or Quarantined.</param>
    /// <param name="QuarantineReason">Why it was quarantined.</param>
    /// <param name="Steps">Steps that trained it.</param>
    /// <param name="TrainLoss">Smoothed training loss.</param>
    /// <param name="Validation">Validation results, if evaluated.</param>
    public sealed record TaskResult(string Id, string Version, string Plugin, string State, string? QuarantineReason, int Steps,
        double? TrainLoss, ValidationResult? Validation);

    /// <summary>A task's validation result.</summary>
    /// <param name="Examples">Examples evaluated.</param>
    /// <param name="Loss">Mean loss.</param>
    /// <param name="Primary">Name of the primary score.</param>
    /// <param name="HigherIsBetter">Its direction.</param>
    /// <param name="Score">Its value.</param>
    /// <param name="Baseline">The trivial predictor's value of the same score.</param>
    /// <param name="Scores">Every score.</param>
    public sealed record ValidationResult(int Examples, double Loss, string Primary, bool HigherIsBetter, double Score, double Baseline,
        IReadOnlyDictionary<string, double> Scores)
    {
        /// <summary>The result of an evaluation, as summaries give it.</summary>
        /// <param name="scores">The evaluation.</param>
        /// <returns>The result.</returns>
        public static ValidationResult Of(TaskScores scores) =>
            new(scores.Examples, scores.Loss, scores.PrimaryScore, scores.HigherIsBetter, scores.Primary, scores.Baseline, scores.Scores);
    }

    /// <summary>The evaluation a run would be deployed from.</summary>
    /// <param name="Step">Its step.</param>
    /// <param name="Measure">What was compared: Δm% against stored baselines, or the mean primary score.</param>
    /// <param name="Score">Its value.</param>
    /// <param name="Checkpoint">Its checkpoint folder.</param>
    public sealed record BestEvaluation(int Step, string Measure, double Score, string Checkpoint);

    /// <summary>Something that did not join the run.</summary>
    /// <param name="Plugin">Plugin name.</param>
    /// <param name="Task">Task id, when one task of a loaded plugin was refused.</param>
    /// <param name="Reason">Why.</param>
    public sealed record Refusal(string Plugin, string? Task, string Reason);

    /// <summary>Builds the summary from a training report.</summary>
    /// <param name="encoder">Encoder name.</param>
    /// <param name="device">Device name.</param>
    /// <param name="report">The report.</param>
    /// <param name="checkpoint">Checkpoint folder.</param>
    /// <param name="refused">Refusals.</param>
    /// <returns>The summary.</returns>
    public static RunSummary From(string encoder, string device, TrainingReport report, string checkpoint, IReadOnlyList<Refusal> refused) =>
        new(encoder, device, report.Steps, Math.Round(report.Seconds, 3), Math.Round(report.StepsPerSecond, 3), checkpoint,
            report.Tasks.Select(t => new TaskResult(t.TaskId, t.Version, t.Plugin, t.State.ToString(), t.QuarantineReason, t.StepsTrained,
                double.IsFinite(t.TrainLoss) ? t.TrainLoss : null,
                t.Validation is { } v ? ValidationResult.Of(v) : null)).ToList(),
            refused);
}
