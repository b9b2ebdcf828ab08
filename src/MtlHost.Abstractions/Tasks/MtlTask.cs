namespace MtlHost.Abstractions;

/// <summary>
/// Base class for a task: builds the <see cref="TaskDescriptor"/> from a few overridable members and
/// reads data with <see cref="JsonLinesDataset"/> from <c>data/&lt;id&gt;/</c> beside the plugin DLL.
/// Derive from a kind's base class (such as <see cref="SequenceClassificationTask"/>) rather than
/// from this one, unless the task is of a new kind.
/// </summary>
public abstract class MtlTask : IMtlTask
{
    private TaskDescriptor? _descriptor;

    /// <summary>Stable task id (see <see cref="TaskDescriptor.Id"/>).</summary>
    public abstract string Id { get; }

    /// <summary>Kind of the task.</summary>
    public abstract TaskKind Kind { get; }

    /// <summary>Label names in index order; empty for regression.</summary>
    public virtual IReadOnlyList<string> Labels => [];

    /// <summary>Version of the task; defaults to the plugin assembly's version.</summary>
    public virtual Version Version => GetType().Assembly.GetName().Version ?? new Version(1, 0);

    /// <summary>Human-readable name; defaults to <see cref="Id"/>.</summary>
    public virtual string DisplayName => Id;

    /// <summary>
    /// Folder of <c>train.jsonl</c>, <c>validation.jsonl</c> and <c>test.jsonl</c>, relative to the
    /// plugin folder (or absolute). Defaults to <c>data/&lt;id&gt;</c>.
    /// </summary>
    protected virtual string DataDirectory => Path.Combine("data", Id);

    /// <inheritdoc />
    public TaskDescriptor Descriptor => _descriptor ??= new TaskDescriptor(Id, Version, Kind, Labels) { DisplayName = DisplayName };

    /// <inheritdoc />
    public virtual ITaskDataset CreateDataset(TaskContext context) =>
        new JsonLinesDataset(Path.Combine(context.PluginDirectory, DataDirectory), Descriptor, context);

    /// <inheritdoc />
    public abstract TaskHead CreateHead(HeadOptions options);

    /// <inheritdoc />
    public abstract ITaskLoss CreateLoss();

    /// <inheritdoc />
    public abstract ITaskMetric CreateMetric();
}
