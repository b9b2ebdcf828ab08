using MtlHost.Abstractions;
using MtlHost.Abstractions.Messages;
using MtlHost.Core.Checkpoints;
using MtlHost.Core.Encoders;
using MtlHost.Core.Sharing;
using MtlHost.Core.Training;
using MtlHost.Plugins;
using static TorchSharp.torch;

namespace MtlHost.Inference;

/// <summary>
/// Rebuilds the modules of a checkpoint for prediction: the encoder, its branches (with <c>--sharing top-layers</c> or
/// <c>adapters</c>) and the task heads, each from its weights file and in evaluation mode.
/// </summary>
/// <remarks>
/// Module construction draws initial weights from torch's generator, so it holds <see cref="TorchGenerator.Lock"/>:
/// a predictor loading on another thread must not shift the random numbers of a training step in flight.
/// </remarks>
internal static class CheckpointModelLoader
{
    /// <summary>Builds the checkpoint's encoder and reads its weights.</summary>
    /// <exception cref="CheckpointException">The encoder is unknown to this host, of another shape, or its weights are unreadable.</exception>
    internal static BertEncoder LoadEncoder(string directory, CheckpointManifest manifest)
    {
        var entry = manifest.Encoder;
        var config = CheckpointEncoder.ConfigOf(directory, manifest);
        var path = CheckpointReader.RequireFile(directory, entry.File, "encoder weights");
        // Building draws initial weights from torch's generator, which a training step on another thread may be using.
        BertEncoder encoder;
        lock (TorchGenerator.Lock)
        {
            encoder = new BertEncoder(config);
        }
        return LoadWeights(encoder, path,
            e => $"Encoder weights '{path}' cannot be read ({e.Message}); the checkpoint is damaged, write it again with a training run.");
    }

    // The manifest names each branch and its strategy but not the strategy's options: they are read back from the
    // branch's own tensors (top-layers: the lowest copied layer is k; adapters: the bottleneck width).
    /// <summary>Builds the checkpoint's encoder branches by name; none with hard sharing.</summary>
    /// <exception cref="CheckpointException">A branch file is missing or damaged, or its strategy unknown.</exception>
    internal static Dictionary<string, EncoderBranch> LoadBranches(string directory, CheckpointManifest manifest, BertEncoder encoder)
    {
        var branches = new Dictionary<string, EncoderBranch>(StringComparer.Ordinal);
        if (string.Equals(manifest.Sharing, HardSharing.StrategyName, StringComparison.OrdinalIgnoreCase))
        {
            return branches;
        }
        try
        {
            foreach (var entry in manifest.Branches)
            {
                var path = CheckpointReader.RequireFile(directory, entry.File, $"weights of encoder branch '{entry.Name}'");
                var tensors = CheckpointReader.ReadWeights(path);
                SharingOptions options;
                switch (entry.Strategy)
                {
                    case TopLayerSharing.StrategyName:
                    {
                        var layers = tensors.Select(t => t.Name.Split('.')).Where(p => p.Length > 2 && p[0] == "layer" && int.TryParse(p[1], out _))
                            .Select(p => int.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture)).ToList();
                        if (layers.Count == 0)
                        {
                            throw new CheckpointException($"Encoder branch '{entry.Name}' ('{path}') holds no copied layer; the checkpoint is damaged.");
                        }
                        options = new SharingOptions(SharedLayers: layers.Min());
                        break;
                    }
                    case AdapterSharing.StrategyName:
                    {
                        var down = tensors.FirstOrDefault(t => t.Name.EndsWith("down.weight", StringComparison.Ordinal) && t.Shape.Count == 2)
                                   ?? throw new CheckpointException($"Encoder branch '{entry.Name}' ('{path}') holds no adapter; the checkpoint is damaged.");
                        options = new SharingOptions(AdapterSize: (int)down.Shape[0]);
                        break;
                    }
                    default:
                        throw new CheckpointException($"Encoder branch '{entry.Name}' was made by sharing strategy '{entry.Strategy}', which this host " +
                                                      $"cannot rebuild; it knows {string.Join(", ", SharingCatalog.Names)}.");
                }
                EncoderBranch branch;
                lock (TorchGenerator.Lock)
                {
                    branch = SharingCatalog.Create(entry.Strategy, options).CreateBranch(entry.Name, encoder);
                }
                branches[entry.Name] = branch;
                try
                {
                    branch.load(path);
                }
                catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException)
                {
                    throw new CheckpointException($"Encoder branch '{entry.Name}' ('{path}') does not fit a {entry.Strategy} branch of this encoder ({e.Message}).", e);
                }
                branch.eval();
            }
            return branches;
        }
        catch
        {
            foreach (var branch in branches.Values)
            {
                branch.Dispose();
            }
            throw;
        }
    }


    // A task's branch is named after the task, or after its task group; an unnamed group is named after its tasks joined by '+'.
    /// <summary>The encoder branch a task reads; <see langword="null"/> with hard sharing.</summary>
    /// <exception cref="CheckpointException">The task's branch cannot be told (named task groups).</exception>
    internal static EncoderBranch? BranchOf(CheckpointManifest.TaskEntry task, CheckpointManifest manifest, Dictionary<string, EncoderBranch> branches)
    {
        if (string.Equals(manifest.Sharing, HardSharing.StrategyName, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        if (branches.TryGetValue(task.Id, out var own))
        {
            return own;
        }
        var group = branches.Values.Where(b => b.BranchName.Split('+').Contains(task.Id, StringComparer.Ordinal)).ToList();
        if (group.Count == 1)
        {
            return group[0];
        }
        throw new CheckpointException(
            $"Task '{task.Id}': the checkpoint was trained with --sharing {manifest.Sharing} and has no encoder branch named after the task " +
            $"(branches: {string.Join(", ", branches.Keys)}). Its manifest does not record which task group a task was in, so named groups " +
            "(--task-groups \"name: a, b\") cannot be matched; train with unnamed groups (\"a, b\") or without groups to predict from it.");
    }

    /// <summary>Builds a task's head from its plugin and reads the head's weights.</summary>
    /// <exception cref="CheckpointException">The plugin no longer offers the task, describes it otherwise, or its head does not fit the weights.</exception>
    internal static LoadedHead LoadHead(string directory, CheckpointManifest.TaskEntry entry, LoadedPlugin plugin, HeadOptions headOptions)
    {
        var (task, descriptor) = FindTask(entry, plugin);
        // Before the head is built: a missing file is the checkpoint's fault, reported before any plugin code runs.
        _ = CheckpointReader.RequireFile(directory, entry.HeadFile, $"head weights of task '{entry.Id}'");
        var head = CreateHead(entry, task, headOptions);
        LoadHeadWeights(directory, entry, head);
        var kind = Enum.Parse<TaskKind>(entry.Kind);
        return new LoadedHead(new PredictorTask(entry.Id, kind, entry.Labels.ToArray(), entry.State), descriptor, head);
    }

    /// <summary>The plugin's task a checkpoint's task entry was trained as, checked against the entry's kind and labels.</summary>
    /// <returns>The task and a host-owned copy of its descriptor.</returns>
    /// <exception cref="CheckpointException">The plugin no longer offers the task, or describes it otherwise.</exception>
    internal static (IMtlTask Task, TaskDescriptor Descriptor) FindTask(CheckpointManifest.TaskEntry entry, LoadedPlugin plugin)
    {
        var task = plugin.Tasks.FirstOrDefault(t => t.Descriptor.Id == entry.Id)
                   ?? throw new CheckpointException($"Plugin '{plugin.Name}' no longer offers task '{entry.Id}'; use the checkpoint's plugins.");
        // A host-owned copy of the descriptor, so nothing of the plugin is kept through its label list.
        var descriptor = task.Descriptor with { Labels = task.Descriptor.Labels?.ToArray() ?? [] };
        if (descriptor.Kind.ToString() != entry.Kind || !descriptor.Labels.SequenceEqual(entry.Labels))
        {
            throw new CheckpointException($"Task '{entry.Id}': the plugin describes it as {descriptor.Kind} [{string.Join(", ", descriptor.Labels)}], " +
                                          $"the checkpoint as {entry.Kind} [{string.Join(", ", entry.Labels)}]; use the checkpoint's plugins.");
        }
        return (task, descriptor);
    }

    /// <summary>A fresh head of the task, as the plugin builds it, without the checkpoint's weights.</summary>
    /// <exception cref="CheckpointException">The plugin's <c>CreateHead</c> threw.</exception>
    internal static TaskHead CreateHead(CheckpointManifest.TaskEntry entry, IMtlTask task, HeadOptions headOptions)
    {
        try
        {
            lock (TorchGenerator.Lock)
            {
                return task.CreateHead(headOptions);
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Plugin code: its failure makes this task unavailable, not the whole checkpoint unloadable.
            throw new CheckpointException($"Task '{entry.Id}': the plugin's CreateHead threw {ExceptionChain.Describe(e)}", e);
        }
    }

    /// <summary>Reads a task's head weights from the checkpoint into <paramref name="head"/> and puts it in evaluation mode.</summary>
    /// <exception cref="CheckpointException">The weights are missing or do not fit the head (which is then disposed).</exception>
    internal static void LoadHeadWeights(string directory, CheckpointManifest.TaskEntry entry, TaskHead head)
    {
        string path;
        try
        {
            path = CheckpointReader.RequireFile(directory, entry.HeadFile, $"head weights of task '{entry.Id}'");
        }
        catch
        {
            head.Dispose();
            throw;
        }
        LoadWeights(head, path,
            e => $"Head weights of task '{entry.Id}' ('{path}') do not fit the plugin's head ({e.Message}); use the checkpoint's plugins.");
    }

    // Reads a freshly built module's weights and puts it in evaluation mode; a file that does not fit disposes the
    // module, so no half-loaded module is left behind.
    private static T LoadWeights<T>(T module, string path, Func<Exception, string> failure) where T : nn.Module
    {
        try
        {
            module.load(path);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException or EndOfStreamException)
        {
            module.Dispose();
            throw new CheckpointException(failure(e), e);
        }
        module.eval();
        return module;
    }
}
