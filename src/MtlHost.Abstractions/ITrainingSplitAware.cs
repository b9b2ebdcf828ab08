namespace MtlHost.Abstractions;

/// <summary>
/// A task's loss or head that adapts to the training data: the host calls <see cref="Prepare"/> once,
/// after reading the training split and before the first training step. The summary is a function of the data alone,
/// so a resumed run prepares the same way.
/// </summary>
public interface ITrainingSplitAware
{
    /// <summary>Receives the training split's label counts.</summary>
    /// <param name="training">The summary.</param>
    void Prepare(TrainingSplitSummary training);
}
