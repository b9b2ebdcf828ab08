namespace MtlHost.Abstractions;

/// <summary>
/// A task plugin's entry point: one task, made of four parts — dataset adapter, head, loss and
/// metric. The host finds every public non-abstract class implementing this interface in a plugin
/// assembly and creates it with its public parameterless constructor.
/// A task never sees the optimizer, the encoder's weights or other tasks.
/// </summary>
/// <remarks>Most tasks derive from a kind's base class such as <see cref="SequenceClassificationTask"/>.</remarks>
public interface IMtlTask
{
    /// <summary>Id, version, kind and labels of the task.</summary>
    TaskDescriptor Descriptor { get; }

    /// <summary>Creates the dataset adapter.</summary>
    /// <param name="context">Where the plugin lives and how to report bad records.</param>
    /// <returns>The adapter.</returns>
    ITaskDataset CreateDataset(TaskContext context);

    /// <summary>Creates a freshly initialised head.</summary>
    /// <param name="options">Shape of the encoder the head sits on.</param>
    /// <returns>The head.</returns>
    TaskHead CreateHead(HeadOptions options);

    /// <summary>Creates the loss.</summary>
    /// <returns>The loss.</returns>
    ITaskLoss CreateLoss();

    /// <summary>Creates an empty metric.</summary>
    /// <returns>The metric.</returns>
    ITaskMetric CreateMetric();
}
