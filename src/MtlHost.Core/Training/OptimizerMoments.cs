using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MtlHost.Core.Training;

/// <summary>
/// Saves and restores an AdamW optimizer's per-parameter state (step count, first and second moments)
/// keyed by parameter name, not by position: a restored run builds its optimizers afresh, and a head
/// whose plugin version changed keeps the moments of the tensors that still fit, as hot reload does.
/// </summary>
public static class OptimizerMoments
{
    /// <summary>The first string of a moments file, so that a file of another format is refused, never misread.</summary>
    public const string FileMagic = "mtlhost-adamw-moments/1";

    /// <summary>Writes the state of every parameter <paramref name="optimizer"/> has stepped.</summary>
    /// <param name="path">The file.</param>
    /// <param name="optimizer">The optimizer.</param>
    /// <param name="parameters">Its parameters with their names.</param>
    public static void Save(string path, AdamW optimizer, IEnumerable<(string Name, Tensor Parameter)> parameters)
    {
        var states = StatesByParameter(optimizer);
        var entries = parameters.Where(p => states.TryGetValue(p.Parameter.Handle, out var s) && s.step > 0)
            .Select(p => (p.Name, State: states[p.Parameter.Handle]))
            .Select(e => (e.Name, e.State.step, e.State.exp_avg, e.State.exp_avg_sq)).ToList();
        Write(path, entries);
    }

    /// <summary>
    /// Writes moments in the format <see cref="Read"/> reads; the one writer of that format, whether the moments come
    /// from a live optimizer (<see cref="Save"/>) or from a removed head's snapshot.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="entries">Per parameter name, AdamW's step count and first and second moments.</param>
    internal static void Write(string path, IReadOnlyCollection<(string Name, long Step, Tensor ExpAvg, Tensor ExpAvgSq)> entries)
    {
        using var stream = File.Create(path);
        using var writer = new BinaryWriter(stream);
        writer.Write(FileMagic);
        writer.Write(entries.Count);
        foreach (var (name, step, expAvg, expAvgSq) in entries)
        {
            writer.Write(name);
            writer.Write(step);
            expAvg.Save(writer);
            expAvgSq.Save(writer);
        }
    }

    /// <summary>Reads a file written by <see cref="Save"/> into host-owned CPU tensors.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The moments by parameter name; the caller owns the tensors.</returns>
    /// <exception cref="InvalidDataException">The file is not a moments file.</exception>
    public static Dictionary<string, (long Step, Tensor ExpAvg, Tensor ExpAvgSq)> Read(string path)
    {
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream);
        if (reader.ReadString() != FileMagic)
        {
            throw new InvalidDataException($"'{path}' is not an optimizer state file of this host.");
        }
        var count = reader.ReadInt32();
        var moments = new Dictionary<string, (long, Tensor, Tensor)>(StringComparer.Ordinal);
        for (var i = 0; i < count; i++)
        {
            var name = reader.ReadString();
            var step = reader.ReadInt64();
            var expAvg = TensorExtensionMethods.Load(reader).DetachFromDisposeScope();
            var expAvgSq = TensorExtensionMethods.Load(reader).DetachFromDisposeScope();
            moments[name] = (step, expAvg, expAvgSq);
        }
        return moments;
    }

    /// <summary>
    /// Restores the state of every parameter of <paramref name="optimizer"/> whose name and shape match an
    /// entry of the file; the others keep a fresh state.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="optimizer">The optimizer, built over <paramref name="parameters"/>.</param>
    /// <param name="parameters">Its parameters with their names.</param>
    /// <returns>How many parameters got their state back.</returns>
    public static int Restore(string path, AdamW optimizer, IEnumerable<(string Name, Tensor Parameter)> parameters)
    {
        var saved = Read(path);
        try
        {
            var states = StatesByParameter(optimizer);
            var restored = 0;
            using (no_grad())
            {
                foreach (var (name, parameter) in parameters)
                {
                    if (saved.TryGetValue(name, out var entry) && states.TryGetValue(parameter.Handle, out var state)
                        && entry.ExpAvg.shape.SequenceEqual(state.exp_avg.shape))
                    {
                        state.step = entry.Step;
                        state.exp_avg.copy_(entry.ExpAvg);
                        state.exp_avg_sq.copy_(entry.ExpAvgSq);
                        EnsureGradient(parameter);
                        restored++;
                    }
                }
            }
            return restored;
        }
        finally
        {
            foreach (var entry in saved.Values)
            {
                entry.ExpAvg.Dispose();
                entry.ExpAvgSq.Dispose();
            }
        }
    }

    /// <summary>
    /// Gives a parameter that AdamW had stepped a (zero) gradient if it has none. The trainer zeroes gradients
    /// rather than dropping them, so once a parameter has had a gradient AdamW updates it every step, even in steps
    /// that do not train it (its moments decay, weight decay applies); a parameter restored without a gradient would
    /// be skipped until its task is sampled again, and the resumed run would drift from the uninterrupted one.
    /// </summary>
    /// <param name="parameter">The parameter.</param>
    internal static void EnsureGradient(Tensor parameter)
    {
        if (parameter.grad is null)
        {
            using var zeros = zeros_like(parameter);
            parameter.grad = zeros;
        }
    }

    /// <summary>AdamW's state of each parameter, by the parameter's native handle.</summary>
    /// <param name="optimizer">The optimizer.</param>
    /// <returns>The states.</returns>
    // AdamW keeps one state per parameter, in parameter-group order; its state_dict() lists them in that order.
    internal static Dictionary<IntPtr, AdamW.State> StatesByParameter(AdamW optimizer)
    {
        var states = optimizer.state_dict().State;
        var parameters = optimizer.ParamGroups.Cast<ParamGroup>().SelectMany(g => g.Parameters).ToList();
        var map = new Dictionary<IntPtr, AdamW.State>();
        for (var i = 0; i < parameters.Count && i < states.Count; i++)
        {
            map[parameters[i].Handle] = (AdamW.State)states[i];
        }
        return map;
    }
}
