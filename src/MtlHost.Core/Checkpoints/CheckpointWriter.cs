using System.Text.Json;
using MtlHost.Abstractions;
using MtlHost.Core.Encoders;
using MtlHost.Core.Sharing;
using MtlHost.Core.Weighting;
using MtlHost.Core.Training;

namespace MtlHost.Core.Checkpoints;

/// <summary>
/// Writes a checkpoint folder — <c>encoder.bin</c>, <c>heads/&lt;task&gt;.bin</c> and
/// <c>manifest.json</c> — atomically: everything goes to a temporary sibling folder that is renamed
/// into place, so a crash mid-write never leaves a torn checkpoint under the final name.
/// </summary>
public static class CheckpointWriter
{
    /// <summary>Options for the manifest's JSON.</summary>
    /// <remarks>Named floating-point literals are allowed: a smoothed loss is NaN before a task's first step, a best score -Infinity before the first evaluation.</remarks>
    public static JsonSerializerOptions JsonOptions { get; } = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Folder of the optimizer state inside a resumable checkpoint.</summary>
    public const string OptimizerFolder = "optimizer";

    /// <summary>Manifest state of a task whose plugin was removed during the run; its head is still saved.</summary>
    public const string RemovedState = "Removed";

    /// <summary>Writes the checkpoint, replacing an older one at <paramref name="directory"/>.</summary>
    /// <param name="directory">Final checkpoint folder.</param>
    /// <param name="content">What to write.</param>
    /// <returns>The manifest written.</returns>
    public static CheckpointManifest Write(string directory, CheckpointContent content)
    {
        var (encoderName, encoder, tasks, step, options) = content;
        var (scores, weighting, training) = (content.Scores, content.Weighting, content.Training);
        var final = Path.GetFullPath(directory);
        var parent = Path.GetDirectoryName(final)!;
        Directory.CreateDirectory(parent);
        var staging = Path.Combine(parent, $".{Path.GetFileName(final)}.tmp-{Environment.ProcessId}");
        if (Directory.Exists(staging))
        {
            Directory.Delete(staging, recursive: true);
        }
        Directory.CreateDirectory(Path.Combine(staging, "heads"));
        var removedHeads = content.RemovedHeads;

        encoder.save(Path.Combine(staging, "encoder.bin"));
        var entries = new List<CheckpointManifest.TaskEntry>();
        foreach (var task in tasks.OrderBy(t => t.Id, StringComparer.Ordinal))
        {
            var headFile = Path.Combine("heads", task.Id + ".bin");
            task.Head.save(Path.Combine(staging, headFile));
            entries.Add(new CheckpointManifest.TaskEntry(task.Id, task.Descriptor.Version.ToString(), task.Descriptor.Kind.ToString(),
                task.Descriptor.Labels, task.State.ToString(), task.Source.PluginName, task.Source.AssemblyFile, task.Source.Sha256,
                headFile.Replace('\\', '/'), scores is not null && scores.TryGetValue(task.Id, out var s) ? s.Scores : null));
        }

        var live = entries.Select(e => e.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var head in removedHeads.Where(h => !live.Contains(h.TaskId)).OrderBy(h => h.TaskId, StringComparer.Ordinal))
        {
            var headFile = Path.Combine("heads", head.TaskId + ".bin");
            head.Save(Path.Combine(staging, headFile));
            entries.Add(new CheckpointManifest.TaskEntry(head.TaskId, head.Descriptor.Version.ToString(), head.Descriptor.Kind.ToString(),
                head.Descriptor.Labels, RemovedState, head.Source.PluginName, head.Source.AssemblyFile, head.Source.Sha256,
                headFile.Replace('\\', '/'), null));
        }

        var branchEntries = new List<CheckpointManifest.BranchEntry>();
        foreach (var branch in content.Branches.Where(b => b.ParameterCount > 0).OrderBy(b => b.BranchName, StringComparer.Ordinal))
        {
            Directory.CreateDirectory(Path.Combine(staging, "branches"));
            var branchFile = Path.Combine("branches", branch.BranchName + ".bin");
            branch.save(Path.Combine(staging, branchFile));
            branchEntries.Add(new CheckpointManifest.BranchEntry(branch.BranchName, branch.StrategyName, branchFile.Replace('\\', '/'), branch.ParameterCount));
        }

        CheckpointManifest.TrainingEntry? trainingEntry = null;
        if (training is not null)
        {
            var optimizerFolder = Path.Combine(staging, OptimizerFolder);
            training.Optimizers.Save(optimizerFolder);
            var progress = tasks.ToDictionary(t => t.Id, t => t.Progress(), StringComparer.Ordinal);
            foreach (var head in removedHeads.Where(h => !progress.ContainsKey(h.TaskId)))
            {
                head.SaveMoments(Path.Combine(optimizerFolder, "heads", head.TaskId + ".bin"));
                progress[head.TaskId] = new TaskProgress(head.StepsTrained, 0, double.NaN, double.NaN, double.NaN, 0, 0, 0, 0, null);
            }
            trainingEntry = new CheckpointManifest.TrainingEntry(training.Settings, OptimizerFolder,
                new SortedDictionary<string, TaskProgress>(progress, StringComparer.Ordinal), training.Selection);
        }
        var files = Directory.EnumerateFiles(staging, "*", SearchOption.AllDirectories)
            .Select(f => new CheckpointManifest.FileEntry(Path.GetRelativePath(staging, f).Replace('\\', '/'), new FileInfo(f).Length))
            .OrderBy(f => f.Path, StringComparer.Ordinal).ToList();

        var config = encoder.Config;
        var manifest = new CheckpointManifest
        {
            CreatedUtc = DateTime.UtcNow.ToString("O"),
            Step = step,
            Seed = options.Seed,
            SdkVersion = SdkInfo.Version.ToString(),
            Encoder = new CheckpointManifest.EncoderEntry(encoderName, "encoder.bin", config.HiddenSize, config.LayerCount, config.HeadCount, options.MaxLength),
            Tasks = entries,
            Sharing = options.Sharing,
            Branches = branchEntries,
            Weighting = weighting is null ? null : new CheckpointManifest.WeightingEntry(weighting.Name, weighting.GetState()),
            Files = files,
            Training = trainingEntry,
        };
        File.WriteAllText(Path.Combine(staging, "manifest.json"), JsonSerializer.Serialize(manifest, JsonOptions));

        // Swap in the new checkpoint: the old one is moved aside first and deleted only after the rename.
        string? previous = null;
        if (Directory.Exists(final))
        {
            previous = Path.Combine(parent, $".{Path.GetFileName(final)}.old-{Environment.ProcessId}");
            if (Directory.Exists(previous))
            {
                Directory.Delete(previous, recursive: true);
            }
            Directory.Move(final, previous);
        }
        Directory.Move(staging, final);
        if (previous is not null)
        {
            Directory.Delete(previous, recursive: true);
        }
        return manifest;
    }
}
