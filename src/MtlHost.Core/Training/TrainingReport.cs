namespace MtlHost.Core.Training;

/// <summary>The outcome of a joint training run.</summary>
/// <param name="Steps">Optimizer steps taken.</param>
/// <param name="Seconds">Wall time of the training steps (evaluation excluded).</param>
/// <param name="Tasks">One report per task, in task-id order.</param>
/// <param name="History">Validation scores at each evaluation, by step.</param>
public sealed record TrainingReport(int Steps, double Seconds, IReadOnlyList<TaskReport> Tasks,
    IReadOnlyList<(int Step, IReadOnlyList<TaskScores> Scores)> History)
{
    /// <summary>Steps per second of training.</summary>
    public double StepsPerSecond => Seconds > 0 ? Steps / Seconds : 0;
}
