namespace MtlHost.Core.Training;

/// <summary>What one task did in one training step.</summary>
/// <param name="TaskId">The task.</param>
/// <param name="Loss">Its loss on this step's batch.</param>
/// <param name="Weight">The weight the loss weighting gave it this step.</param>
/// <param name="Examples">Examples in its batch.</param>
public sealed record TaskStepRecord(string TaskId, double Loss, double Weight, int Examples);
