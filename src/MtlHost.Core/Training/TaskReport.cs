namespace MtlHost.Core.Training;

/// <summary>What a run did with one task.</summary>
/// <param name="TaskId">The task.</param>
/// <param name="Version">Its version.</param>
/// <param name="Plugin">The plugin it came from.</param>
/// <param name="State">Whether it was still training at the end.</param>
/// <param name="QuarantineReason">Why it was taken out, if it was.</param>
/// <param name="StepsTrained">Steps that trained it.</param>
/// <param name="ExamplesSeen">Training examples it saw.</param>
/// <param name="TrainLoss">Smoothed training loss at the end.</param>
/// <param name="Validation">Final validation scores; <see langword="null"/> when it could not be evaluated.</param>
public sealed record TaskReport(string TaskId, string Version, string Plugin, TaskState State, string? QuarantineReason,
    int StepsTrained, long ExamplesSeen, double TrainLoss, TaskScores? Validation);
