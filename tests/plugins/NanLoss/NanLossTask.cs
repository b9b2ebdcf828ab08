using MtlHost.Abstractions;
using static TorchSharp.torch;

namespace MtlHost.TestPlugins;

/// <summary>
/// A task that validates but whose loss turns NaN once training starts: the trainer must quarantine
/// it after a few steps while the other tasks keep training. Its data comes from an in-memory
/// adapter, which also shows that adapters need not read files.
/// </summary>
public sealed class NanLossTask : SequenceClassificationTask
{
    /// <inheritdoc />
    public override string Id => "nan-loss";

    /// <inheritdoc />
    public override IReadOnlyList<string> Labels => ["short", "long"];

    /// <inheritdoc />
    public override ITaskDataset CreateDataset(TaskContext context) => new GeneratedDataset();

    /// <inheritdoc />
    public override ITaskLoss CreateLoss() => new NanAfterValidationLoss();

    private sealed class GeneratedDataset : ITaskDataset
    {
        public IEnumerable<TaskExample> Read(DataSplit split) =>
            // Enough examples that proportional sampling picks this task often next to a real one.
            Enumerable.Range(0, 2000).Select(i => TaskExample.ForText(string.Join(' ', Enumerable.Repeat("word", 1 + i % 40)), i % 40 < 20 ? "short" : "long"));
    }

    private sealed class NanAfterValidationLoss : ITaskLoss
    {
        private readonly ITaskLoss _inner = new SingleLabelCrossEntropy();

        // Finite on the host's dry batch (no gradient), NaN whenever it is trained.
        public Tensor Compute(Tensor outputs, Tensor targets) =>
            outputs.requires_grad ? _inner.Compute(outputs, targets) * float.NaN : _inner.Compute(outputs, targets);
    }
}
