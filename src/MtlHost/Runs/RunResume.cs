using System.Globalization;
using Microsoft.Extensions.Logging;
using MtlHost.Abstractions;
using MtlHost.Cli;
using MtlHost.Core.Checkpoints;
using MtlHost.Core.Data;
using MtlHost.Core.Training;
using MtlHost.Hosting;

namespace MtlHost.Runs;

/// <summary>
/// Continues a run from the latest checkpoint of its run folder: encoder, branches, heads (by task id; a new
/// version takes over the tensors that still fit, as hot reload does), optimizer state, loss weighting,
/// batch order positions, counters, step and model selection.
/// </summary>
public static class RunResume
{
    /// <summary>
    /// Key of the step budget in the settings a checkpoint records. Recorded, not matched: a restart may change the
    /// budget (train longer), but the learning-rate schedule and the sampler's annealing are laid out over it, so
    /// <see cref="WarnIfStepBudgetChanged"/> says so.
    /// </summary>
    public const string StepBudgetSetting = "--steps";

    /// <summary>
    /// The settings a resumed run must share with the checkpointed one, by command-line option: the weights,
    /// the optimizer and weighting state and the data order only mean something under these.
    /// </summary>
    /// <param name="settings">The run's settings.</param>
    /// <returns>Option name to value.</returns>
    public static IReadOnlyDictionary<string, string> SettingsToMatch(HostSettings settings)
    {
        var values = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["--encoder"] = settings.Encoder,
            ["--seed"] = settings.Training.Seed.ToString(CultureInfo.InvariantCulture),
            ["--sharing"] = settings.Training.Sharing,
            ["--weighting"] = settings.Training.Weighting,
        };
        if (settings.Training.Sharing != "hard")
        {
            // Branch shapes and names depend on these.
            values["--shared-layers"] = settings.SharingOptions.SharedLayers?.ToString(CultureInfo.InvariantCulture) ?? "default";
            values["--adapter-size"] = settings.SharingOptions.AdapterSize.ToString(CultureInfo.InvariantCulture);
            values["--task-groups"] = settings.SharingOptions.TaskGroups ?? "";
        }
        return values;
    }

    /// <summary>The settings a checkpoint records: <see cref="SettingsToMatch"/> and the step budget (<see cref="StepBudgetSetting"/>).</summary>
    /// <param name="settings">The run's settings.</param>
    /// <returns>Option name to value.</returns>
    public static IReadOnlyDictionary<string, string> SettingsToRecord(HostSettings settings)
    {
        var values = new SortedDictionary<string, string>(SettingsToMatch(settings).ToDictionary(), StringComparer.Ordinal)
        {
            [StepBudgetSetting] = StepBudgetOf(settings),
        };
        return values;
    }

    /// <summary>
    /// Warns when a resumed run has another step budget than the checkpointed one: the learning rate (warm-up, decay) and
    /// annealed sampling then follow the new budget from the resumed step on, which is allowed but should not go unnoticed.
    /// Checkpoints written before the budget was recorded are not checked.
    /// </summary>
    /// <param name="directory">The checkpoint.</param>
    /// <param name="manifest">Its manifest.</param>
    /// <param name="settings">This run's settings.</param>
    /// <param name="logger">Receives the warning.</param>
    public static void WarnIfStepBudgetChanged(string directory, CheckpointManifest manifest, HostSettings settings, ILogger logger)
    {
        var now = StepBudgetOf(settings);
        if (manifest.Training?.Settings.TryGetValue(StepBudgetSetting, out var was) == true && !string.Equals(was, now, StringComparison.Ordinal))
        {
            logger.LogWarning("Resuming checkpoint {Checkpoint} (step {Step}) with another step budget: it was trained with --steps {Old}, this run has " +
                              "--steps {New}; the learning-rate schedule and sampling follow the new budget from here on", directory, manifest.Step, was, now);
        }
    }

    /// <summary>Refuses to resume a checkpoint whose run had other settings that must match.</summary>
    /// <param name="directory">The checkpoint.</param>
    /// <param name="manifest">Its manifest.</param>
    /// <param name="current">This run's <see cref="SettingsToMatch"/>.</param>
    /// <exception cref="UsageException">A setting differs; the message names it and the fix.</exception>
    public static void CheckSettings(string directory, CheckpointManifest manifest, IReadOnlyDictionary<string, string> current)
    {
        var saved = manifest.Training!.Settings;
        foreach (var (option, value) in current)
        {
            if (saved.TryGetValue(option, out var was) && !string.Equals(was, value, StringComparison.Ordinal))
            {
                throw new UsageException(
                    $"cannot resume from checkpoint '{directory}' (step {manifest.Step}): it was trained with {option} {Shown(was)}, this run asks for " +
                    $"{option} {Shown(value)}. Give the same {option} {Shown(was)} to resume it, or a new --out to start a new run.");
            }
        }
    }

    /// <summary>
    /// Restores everything but the encoder's weights (read before the trainer was built, so that branches made from
    /// it start from the trained encoder) into a freshly built trainer.
    /// </summary>
    /// <param name="directory">The checkpoint.</param>
    /// <param name="manifest">Its manifest.</param>
    /// <param name="trainer">The new run's trainer.</param>
    /// <param name="archive">Receives the heads of checkpointed tasks whose plugin is absent now, so they are saved again.</param>
    /// <param name="tracker">Model selection's tracker.</param>
    /// <param name="logger">Receives what was resumed, kept and reset.</param>
    public static void Restore(string directory, CheckpointManifest manifest, JointTrainer trainer, HeadArchive archive, BestScoreTracker tracker,
        ILogger logger)
    {
        var training = manifest.Training!;
        var optimizer = Path.Combine(directory, training.OptimizerFolder);
        var files = manifest.Files.Select(f => f.Path).ToHashSet(StringComparer.Ordinal);
        string? Moments(string relative) => files.Contains($"{training.OptimizerFolder}/{relative}") ? Path.Combine(optimizer, relative) : null;

        trainer.ResumeAt(manifest.Step);
        if (Moments("encoder.bin") is { } encoderMoments)
        {
            trainer.Optimizers.RestoreEncoder(encoderMoments);
        }
        if (manifest.Weighting is { } weighting && weighting.Name == trainer.Weighting.Name)
        {
            trainer.Weighting.SetState(weighting.State);
        }
        foreach (var branch in manifest.Branches)
        {
            trainer.RestoreBranch(branch.Name, Path.Combine(directory, branch.File), Moments($"branches/{branch.Name}.bin"));
        }

        var live = trainer.Tasks.ToDictionary(t => t.Id, StringComparer.Ordinal);
        foreach (var entry in manifest.Tasks)
        {
            training.Tasks.TryGetValue(entry.Id, out var progress);
            var descriptor = new TaskDescriptor(entry.Id, Version.Parse(entry.Version), Enum.Parse<TaskKind>(entry.Kind), entry.Labels.ToArray());
            var source = new TaskSource(entry.Plugin, "", entry.PluginAssembly, entry.PluginSha256);
            var snapshot = HeadSnapshot.Load(Path.Combine(directory, entry.HeadFile), Moments($"heads/{entry.Id}.bin"), descriptor, source,
                progress?.StepsTrained ?? 0);
            if (!live.TryGetValue(entry.Id, out var task))
            {
                archive.Store(snapshot);
                logger.LogWarning("Task {Task} (plugin {Plugin}) is in the checkpoint but not in the plugins folder now: its head is kept and saved " +
                                  "with the run (state {State}); put the plugin back to train it again", entry.Id, entry.Plugin, CheckpointWriter.RemovedState);
                continue;
            }
            using (snapshot)
            {
                var report = trainer.Roster.RestoreHead(entry.Id, snapshot);
                var sameCode = task.Source.Sha256 == entry.PluginSha256;
                if (task.Descriptor.Version.ToString() != entry.Version || !sameCode)
                {
                    logger.LogWarning("Task {Task}: plugin changed since the checkpoint (version {Old} -> {New}); head tensors kept: [{Kept}], " +
                                      "reset: [{Reset}], dropped: [{Dropped}]", entry.Id, entry.Version, task.Descriptor.Version,
                        string.Join(", ", report.Kept), string.Join(", ", report.Reset), string.Join(", ", report.Dropped));
                }
                if (progress is not null && entry.State != CheckpointWriter.RemovedState)
                {
                    // The batch order position only means something over the same training data, in the same order.
                    var order = progress.BatchOrder ?? LengthWindows.ShuffledOrder;
                    if (progress.TrainExamples != task.Train.Count)
                    {
                        task.RestoreProgress(progress with { Epoch = 0, EpochPosition = 0 });
                    }
                    else if (order != task.BatchOrder)
                    {
                        // Same epoch (its shuffle is the same), from its start: no example of it is skipped.
                        task.RestoreProgress(progress with { EpochPosition = 0 });
                        logger.LogWarning("Task {Task}: its batch order changed since the checkpoint ({Old} -> {New}); epoch {Epoch} starts over",
                            entry.Id, order, task.BatchOrder, progress.Epoch);
                    }
                    else
                    {
                        task.RestoreProgress(progress);
                    }
                    if (progress.QuarantineReason is not null && sameCode)
                    {
                        task.Quarantine(progress.QuarantineReason);
                        logger.LogWarning("Task {Task} stays quarantined, as before the restart (same plugin DLL): {Reason}", entry.Id, progress.QuarantineReason);
                    }
                }
            }
        }
        foreach (var task in live.Values.Where(t => manifest.Tasks.All(e => e.Id != t.Id)))
        {
            logger.LogInformation("Task {Task} is new since the checkpoint: it starts fresh", task.Id);
        }
        tracker.Restore(training.Selection.Best, training.Selection.BestStep, training.Selection.EvaluationsSinceBest);
    }

    // A continuous run's budget still sizes its warm-up, so it is part of the value.
    private static string StepBudgetOf(HostSettings settings)
    {
        var steps = settings.Training.Steps.ToString(CultureInfo.InvariantCulture);
        return settings.Training.Continuous ? $"{steps} (continuous)" : steps;
    }

    private static string Shown(string value) => value.Length == 0 ? "(none)" : value;
}
