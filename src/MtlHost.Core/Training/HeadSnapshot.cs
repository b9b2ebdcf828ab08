using MtlHost.Abstractions;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MtlHost.Core.Training;

/// <summary>
/// A host-owned copy of a task head — every named tensor with its optimizer moments — taken when the
/// head leaves the run (replace or remove), so that its plugin can be unloaded while what it learned
/// survives: a replacement takes over the tensors that still fit, a re-added task restores them, and
/// the checkpoint saves them.
/// </summary>
public sealed class HeadSnapshot : IDisposable
{
    private readonly Dictionary<string, HeadTensorState> _tensors;

    private HeadSnapshot(TaskDescriptor descriptor, TaskSource source, int stepsTrained, Dictionary<string, HeadTensorState> tensors)
    {
        Descriptor = descriptor;
        Source = source;
        StepsTrained = stepsTrained;
        _tensors = tensors;
    }

    /// <summary>The task's descriptor, copied so that it holds nothing of the plugin.</summary>
    public TaskDescriptor Descriptor { get; }

    /// <summary>Task id.</summary>
    public string TaskId => Descriptor.Id;

    /// <summary>The plugin version the head came from.</summary>
    public TaskSource Source { get; }

    /// <summary>Steps that had trained the head.</summary>
    public int StepsTrained { get; }

    /// <summary>The tensors by name, as in the head's <c>state_dict()</c>.</summary>
    public IReadOnlyDictionary<string, HeadTensorState> Tensors => _tensors;

    /// <summary>Copies a head and its optimizer state.</summary>
    /// <param name="runtime">The task whose head to copy.</param>
    /// <param name="optimizer">The optimizer of the head, or <see langword="null"/>.</param>
    /// <returns>The snapshot.</returns>
    public static HeadSnapshot Take(TaskRuntime runtime, AdamW? optimizer)
    {
        var moments = optimizer is null ? new Dictionary<IntPtr, AdamW.State>() : OptimizerMoments.StatesByParameter(optimizer);
        var tensors = new Dictionary<string, HeadTensorState>(StringComparer.Ordinal);
        using (no_grad())
        {
            foreach (var (name, tensor) in runtime.Head.state_dict())
            {
                var value = tensor.detach().clone().DetachFromDisposeScope();
                if (moments.TryGetValue(tensor.Handle, out var state) && state.step > 0)
                {
                    tensors[name] = new HeadTensorState(value, state.step, state.exp_avg.clone().DetachFromDisposeScope(),
                        state.exp_avg_sq.clone().DetachFromDisposeScope());
                }
                else
                {
                    tensors[name] = new HeadTensorState(value, 0, null, null);
                }
            }
        }
        var descriptor = runtime.Descriptor with { Labels = runtime.Descriptor.Labels.ToArray() };
        return new HeadSnapshot(descriptor, runtime.Source, runtime.StepsTrained, tensors);
    }

    /// <summary>
    /// Copies into <paramref name="head"/> every tensor whose name and shape match, with its optimizer
    /// state when <paramref name="optimizer"/> holds the parameter; the head's other tensors keep the
    /// plugin's fresh initialisation.
    /// </summary>
    /// <param name="head">The new head.</param>
    /// <param name="optimizer">The new head's optimizer, or <see langword="null"/>.</param>
    /// <returns>Which tensors were kept, reset and dropped.</returns>
    public HeadTransferReport RestoreInto(TaskHead head, AdamW? optimizer)
    {
        var moments = optimizer is null ? new Dictionary<IntPtr, AdamW.State>() : OptimizerMoments.StatesByParameter(optimizer);
        var kept = new List<string>();
        var reset = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        using (no_grad())
        {
            foreach (var (name, tensor) in head.state_dict())
            {
                seen.Add(name);
                if (!_tensors.TryGetValue(name, out var saved) || !saved.Value.shape.SequenceEqual(tensor.shape) || saved.Value.dtype != tensor.dtype)
                {
                    reset.Add(name);
                    continue;
                }
                tensor.copy_(saved.Value);
                if (saved.ExpAvg is not null && moments.TryGetValue(tensor.Handle, out var state))
                {
                    state.step = saved.OptimizerStep;
                    state.exp_avg.copy_(saved.ExpAvg);
                    state.exp_avg_sq.copy_(saved.ExpAvgSq!);
                    OptimizerMoments.EnsureGradient(tensor);
                }
                kept.Add(name);
            }
        }
        var dropped = _tensors.Keys.Where(n => !seen.Contains(n)).OrderBy(n => n, StringComparer.Ordinal).ToList();
        return new HeadTransferReport(kept, reset, dropped);
    }

    /// <summary>
    /// Saves the head's values in TorchSharp's module format, so that <c>head.load(path)</c> of the
    /// same plugin restores it, like a head saved with <c>Module.save</c>.
    /// </summary>
    /// <param name="path">The file.</param>
    public void Save(string path)
    {
        using var stream = File.Create(path);
        using var writer = new BinaryWriter(stream);
        WriteLeb128(writer, _tensors.Count);
        foreach (var (name, state) in _tensors)
        {
            writer.Write(name);
            state.Value.Save(writer);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var state in _tensors.Values)
        {
            state.Value.Dispose();
            state.ExpAvg?.Dispose();
            state.ExpAvgSq?.Dispose();
        }
        _tensors.Clear();
    }

    /// <summary>
    /// Saves the AdamW moments of the head's trained tensors (<see cref="HeadTensorState.OptimizerStep"/> above 0)
    /// in the format of <see cref="OptimizerMoments"/>, so that <see cref="Load"/> restores them.
    /// </summary>
    /// <param name="path">The file.</param>
    public void SaveMoments(string path)
    {
        var trained = _tensors.Where(t => t.Value.ExpAvg is not null)
            .Select(t => (t.Key, t.Value.OptimizerStep, t.Value.ExpAvg!, t.Value.ExpAvgSq!)).ToList();
        OptimizerMoments.Write(path, trained);
    }

    /// <summary>
    /// Reads a head saved in a checkpoint: its values (TorchSharp's module format, as <see cref="Save"/> and
    /// <c>Module.save</c> write) and, when there is a moments file, its optimizer state.
    /// </summary>
    /// <param name="valuesPath">The head's weights file.</param>
    /// <param name="momentsPath">Its <see cref="OptimizerMoments"/> file, or <see langword="null"/>.</param>
    /// <param name="descriptor">The task's descriptor as the checkpoint recorded it.</param>
    /// <param name="source">The plugin version the head came from.</param>
    /// <param name="stepsTrained">Steps that had trained it.</param>
    /// <returns>The snapshot; the caller owns it.</returns>
    /// <exception cref="InvalidDataException">A file is not in the expected format.</exception>
    public static HeadSnapshot Load(string valuesPath, string? momentsPath, TaskDescriptor descriptor, TaskSource source, int stepsTrained)
    {
        var moments = momentsPath is null ? [] : OptimizerMoments.Read(momentsPath);
        var tensors = new Dictionary<string, HeadTensorState>(StringComparer.Ordinal);
        using (var stream = File.OpenRead(valuesPath))
        using (var reader = new BinaryReader(stream))
        {
            var count = ReadLeb128(reader);
            for (long i = 0; i < count; i++)
            {
                var name = reader.ReadString();
                var value = TensorExtensionMethods.Load(reader).DetachFromDisposeScope();
                tensors[name] = moments.Remove(name, out var m)
                    ? new HeadTensorState(value, m.Step, m.ExpAvg, m.ExpAvgSq)
                    : new HeadTensorState(value, 0, null, null);
            }
        }
        // Moments of no tensor of the head: nothing can use them.
        foreach (var unused in moments.Values)
        {
            unused.ExpAvg.Dispose();
            unused.ExpAvgSq.Dispose();
        }
        return new HeadSnapshot(descriptor, source, stepsTrained, tensors);
    }

    private static long ReadLeb128(BinaryReader reader)
    {
        long value = 0;
        var shift = 0;
        while (true)
        {
            var b = reader.ReadByte();
            value |= (long)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return value;
            }
            shift += 7;
        }
    }

    private static void WriteLeb128(BinaryWriter writer, long value)
    {
        var remaining = (ulong)value;
        do
        {
            var b = (byte)(remaining & 0x7F);
            remaining >>= 7;
            writer.Write(remaining != 0 ? (byte)(b | 0x80) : b);
        }
        while (remaining != 0);
    }
}
