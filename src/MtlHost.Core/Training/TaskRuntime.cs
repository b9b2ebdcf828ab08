using MtlHost.Abstractions;
using MtlHost.Core.Data;
using MtlHost.Core.Kinds;
using static TorchSharp.torch;

namespace MtlHost.Core.Training;

/// <summary>
/// One task as the trainer drives it: the plugin's four parts (data, head, loss, metric) with the
/// task's cached, tokenized data, its batch order, and its training state.
/// </summary>
public sealed class TaskRuntime : IDisposable
{
    private readonly EpochSampler _batches;
    private IMtlTask? _task;
    private TaskHead? _head;
    private ITaskLoss? _loss;
    private ITaskMetric? _metric;

    /// <summary>Creates the runtime; <see cref="TaskRuntimeFactory"/> is the usual way.</summary>
    /// <param name="task">The plugin's task.</param>
    /// <param name="source">Where its code came from.</param>
    /// <param name="head">Its head, already on the training device.</param>
    /// <param name="train">Encoded training examples.</param>
    /// <param name="validation">Encoded validation examples.</param>
    /// <param name="seed">Seed of the task's batch order.</param>
    /// <param name="lengthWindow">
    /// Group batches by length within windows of this many batches of the shuffled order (<see cref="LengthWindows"/>);
    /// 0 keeps the plain shuffle.
    /// </param>
    /// <param name="batchSize">Examples per training batch, which the length windows are arranged for.</param>
    public TaskRuntime(IMtlTask task, TaskSource source, TaskHead head, IReadOnlyList<EncodedExample> train,
        IReadOnlyList<EncodedExample> validation, int seed, int lengthWindow = 0, int batchSize = 16)
    {
        _task = task;
        // A host-owned copy: a plugin's label list may be of a type of the plugin (a C# collection expression compiles
        // to one), which would keep its load context alive as long as anything holds the descriptor.
        Descriptor = task.Descriptor with { Labels = task.Descriptor.Labels?.ToArray() ?? [] };
        Source = source;
        _head = head;
        _loss = task.CreateLoss();
        // Before anything restores trained tensors into the head (a checkpoint, a replaced version), so those win.
        if (_loss is ITrainingSplitAware || head is ITrainingSplitAware)
        {
            var summary = TaskKindHandler.For(Descriptor.Kind).Summarize(train, Descriptor.Labels.Count);
            (_loss as ITrainingSplitAware)?.Prepare(summary);
            (head as ITrainingSplitAware)?.Prepare(summary);
        }
        _metric = task.CreateMetric();
        Train = train;
        Validation = validation;
        _batches = new EpochSampler(train.Count, seed,
            lengthWindow > 0 ? new LengthWindows(train.Select(e => e.InputIds.Length).ToArray(), batchSize, lengthWindow) : null);
    }

    /// <summary>The plugin's task.</summary>
    /// <exception cref="ObjectDisposedException">The runtime was disposed.</exception>
    public IMtlTask Task => _task ?? throw Disposed();

    /// <summary>The task's descriptor, read once.</summary>
    public TaskDescriptor Descriptor { get; }

    /// <summary>Task id.</summary>
    public string Id => Descriptor.Id;

    /// <summary>Where its code came from.</summary>
    public TaskSource Source { get; }

    /// <summary>The task's head.</summary>
    /// <exception cref="ObjectDisposedException">The runtime was disposed.</exception>
    public TaskHead Head => _head ?? throw Disposed();

    /// <summary>The task's loss.</summary>
    /// <exception cref="ObjectDisposedException">The runtime was disposed.</exception>
    public ITaskLoss Loss => _loss ?? throw Disposed();

    /// <summary>The task's metric.</summary>
    /// <exception cref="ObjectDisposedException">The runtime was disposed.</exception>
    public ITaskMetric Metric => _metric ?? throw Disposed();

    /// <summary>Encoded training examples (none once disposed).</summary>
    public IReadOnlyList<EncodedExample> Train { get; private set; }

    /// <summary>Encoded validation examples (none once disposed).</summary>
    public IReadOnlyList<EncodedExample> Validation { get; private set; }

    /// <summary>Whether the task is trained.</summary>
    public TaskState State { get; private set; } = TaskState.Training;

    /// <summary>Why the task was taken out of the run.</summary>
    public string? QuarantineReason { get; private set; }

    /// <summary>Steps that trained this task, over every version of its plugin (a hot replace carries the count over).</summary>
    public int StepsTrained { get; private set; }

    /// <summary>Steps that trained this version of the task's code: what a new version's probation counts.</summary>
    public int StepsTrainedThisVersion { get; private set; }

    /// <summary>Examples this task has trained on.</summary>
    public long ExamplesSeen { get; private set; }

    /// <summary>Loss of the most recent step of this task.</summary>
    public double LastLoss { get; private set; } = double.NaN;

    /// <summary>Exponential moving average of the training loss (smoothing 0.9).</summary>
    public double SmoothedLoss { get; private set; } = double.NaN;

    /// <summary>Weight the run's loss weighting gave this task's loss at the last step that trained it.</summary>
    public double LossWeight { get; set; } = double.NaN;

    /// <summary>Non-finite losses in a row.</summary>
    public int ConsecutiveNonFiniteLosses { get; private set; }

    /// <summary>Completed passes over the training data.</summary>
    public int Epoch => _batches.Epoch;

    /// <summary>Indices of the current pass over the training data already trained on.</summary>
    public int EpochPosition => _batches.Position;

    /// <summary>How the task's batches are ordered (a plain shuffle, or length windows), as a checkpoint records it.</summary>
    public string BatchOrder => _batches.Description;

    /// <summary>
    /// Indices into <see cref="Train"/> of the examples of the latest batch <c>NextTrainBatch</c> built (this process's shard of it), in batch
    /// order: what the last step of this task trained on (the step benchmark replays them in its bare loop).
    /// </summary>
    public IReadOnlyList<int> LastTrainBatch { get; private set; } = [];

    /// <summary>
    /// Puts the task's training state back as a checkpoint recorded it — counters, smoothed loss, batch order
    /// position — so that a resumed run goes on as if it had never stopped.
    /// </summary>
    /// <param name="progress">The recorded state.</param>
    public void RestoreProgress(TaskProgress progress)
    {
        StepsTrained = progress.StepsTrained;
        ExamplesSeen = progress.ExamplesSeen;
        SmoothedLoss = progress.SmoothedLoss;
        LastLoss = progress.LastLoss;
        LossWeight = progress.LossWeight;
        ConsecutiveNonFiniteLosses = progress.ConsecutiveNonFiniteLosses;
        _batches.Restore(progress.Epoch, progress.EpochPosition);
    }

    /// <summary>
    /// Takes over the counters of the version this one replaces (steps, examples, losses, weight), so that a task's
    /// history goes on across a hot replace as its curves do. The batch order is the new version's own: its data may differ.
    /// </summary>
    /// <param name="previous">The version being replaced.</param>
    public void ContinueFrom(TaskRuntime previous)
    {
        ArgumentNullException.ThrowIfNull(previous);
        StepsTrained = previous.StepsTrained;
        ExamplesSeen = previous.ExamplesSeen;
        SmoothedLoss = previous.SmoothedLoss;
        LastLoss = previous.LastLoss;
        LossWeight = previous.LossWeight;
    }

    /// <summary>Continues the step count of an earlier head of this task (an archived one that comes back).</summary>
    /// <param name="stepsTrained">Steps the earlier head had trained.</param>
    public void ContinueStepCount(int stepsTrained) => StepsTrained = Math.Max(StepsTrained, stepsTrained);

    /// <summary>The task's training state, for a checkpoint.</summary>
    /// <returns>The state now.</returns>
    public TaskProgress Progress() => new(StepsTrained, ExamplesSeen, SmoothedLoss, LastLoss, LossWeight, ConsecutiveNonFiniteLosses,
        Epoch, EpochPosition, Train.Count, QuarantineReason, BatchOrder);

    /// <summary>Builds the next training batch on <paramref name="device"/>.</summary>
    /// <param name="batchSize">Examples per batch.</param>
    /// <param name="padId">Id of [PAD].</param>
    /// <param name="device">Training device.</param>
    /// <returns>The batch.</returns>
    public TaskBatch NextTrainBatch(int batchSize, int padId, Device device) => NextTrainBatch(batchSize, padId, device, 0, 1);

    /// <summary>
    /// This process's shard of the next training batch of a data-parallel run: every process draws the same
    /// <paramref name="batchSize"/> × <paramref name="shards"/> examples and keeps the <paramref name="shard"/>-th slice,
    /// so the processes together train on what one process would with the whole batch, and the data order (and the
    /// checkpointed position in it) is the same whatever the number of processes.
    /// </summary>
    /// <param name="batchSize">Examples per process.</param>
    /// <param name="padId">Id of [PAD].</param>
    /// <param name="device">Where the tensors go.</param>
    /// <param name="shard">This process's slice, from 0.</param>
    /// <param name="shards">How many processes share the batch.</param>
    /// <returns>The batch.</returns>
    public TaskBatch NextTrainBatch(int batchSize, int padId, Device device, int shard, int shards)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(shard);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(shard, shards);
        var indices = _batches.Next(batchSize * shards);
        // The last batch of an epoch is shorter: the slices then differ by at most one example. One that would be empty
        // (fewer examples left than processes) takes the batch's last example, as every process must train every step.
        var start = shard * indices.Count / shards;
        var end = (shard + 1) * indices.Count / shards;
        LastTrainBatch = end > start ? indices.Slice(start, end - start).ToArray() : [indices[^1]];
        var examples = LastTrainBatch.Select(i => Train[i]).ToArray();
        return BatchCollator.Collate(examples, Descriptor.Kind, padId, device);
    }

    /// <summary>Records the loss of a step that trained this task.</summary>
    /// <param name="loss">The loss value.</param>
    /// <param name="batchSize">Examples in the batch.</param>
    public void RecordStep(double loss, long batchSize)
    {
        LastLoss = loss;
        if (!double.IsFinite(loss))
        {
            ConsecutiveNonFiniteLosses++;
            return;
        }
        ConsecutiveNonFiniteLosses = 0;
        StepsTrained++;
        StepsTrainedThisVersion++;
        ExamplesSeen += batchSize;
        SmoothedLoss = double.IsNaN(SmoothedLoss) ? loss : 0.9 * SmoothedLoss + 0.1 * loss;
    }

    /// <summary>Takes the task out of the run; other tasks go on.</summary>
    /// <param name="reason">Why, phrased so that the fix is clear.</param>
    public void Quarantine(string reason)
    {
        State = TaskState.Quarantined;
        QuarantineReason = reason;
    }

    /// <summary>
    /// Frees the head and lets go of every object of the plugin (task, head, loss, metric) and of the data. Whoever still
    /// holds this runtime — a caller's list of the tasks a run started with, a stack slot the JIT keeps alive — then no
    /// longer keeps the plugin's load context alive, so a replaced or removed version can be collected. Id, descriptor,
    /// source and counters stay readable.
    /// </summary>
    public void Dispose()
    {
        _head?.Dispose();
        (_loss as IDisposable)?.Dispose();
        _task = null;
        _head = null;
        _loss = null;
        _metric = null;
        Train = [];
        Validation = [];
    }

    private ObjectDisposedException Disposed() => new(nameof(TaskRuntime), $"Task '{Id}' was disposed (its plugin version left the run).");
}
