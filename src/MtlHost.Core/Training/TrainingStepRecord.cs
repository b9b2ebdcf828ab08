namespace MtlHost.Core.Training;

/// <summary>
/// One finished training step, as observers (console progress, TensorBoard, the dashboard) see it.
/// </summary>
/// <param name="Step">Steps taken, counting this one.</param>
/// <param name="TotalSteps">The run's step budget; <see langword="null"/> when it trains until stopped.</param>
/// <param name="Seconds">Wall time of this step.</param>
/// <param name="LearningRate">The encoder's learning rate during this step.</param>
/// <param name="Tasks">The tasks trained this step, with their losses and weights (none when every loss was non-finite).</param>
public sealed record TrainingStepRecord(int Step, int? TotalSteps, double Seconds, double LearningRate, IReadOnlyList<TaskStepRecord> Tasks);
