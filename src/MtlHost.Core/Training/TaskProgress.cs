namespace MtlHost.Core.Training;

/// <summary>
/// Where a task's training stood, as a checkpoint records it so that a resumed run continues exactly.
/// </summary>
/// <param name="StepsTrained">Steps that trained the task.</param>
/// <param name="ExamplesSeen">Examples trained on.</param>
/// <param name="SmoothedLoss">Moving average of the training loss (NaN before the first step).</param>
/// <param name="LastLoss">Loss of the last step that trained it.</param>
/// <param name="LossWeight">Weight the loss weighting last gave it.</param>
/// <param name="ConsecutiveNonFiniteLosses">Non-finite losses in a row.</param>
/// <param name="Epoch">Completed passes over the training data.</param>
/// <param name="EpochPosition">Examples of the current pass already trained on.</param>
/// <param name="TrainExamples">Training examples the task had; a different count means its data changed.</param>
/// <param name="QuarantineReason">Why the task was quarantined, or <see langword="null"/>.</param>
/// <param name="BatchOrder">
/// How the task's batches were ordered (<see cref="TaskRuntime.BatchOrder"/>); <see langword="null"/> in checkpoints
/// written before length windows existed, which all used the plain shuffle. A different order makes the position mean
/// other examples.
/// </param>
public sealed record TaskProgress(int StepsTrained, long ExamplesSeen, double SmoothedLoss, double LastLoss, double LossWeight,
    int ConsecutiveNonFiniteLosses, int Epoch, int EpochPosition, int TrainExamples, string? QuarantineReason, string? BatchOrder = null);
