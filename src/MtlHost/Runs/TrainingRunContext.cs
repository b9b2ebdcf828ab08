using MtlHost.Core.Distributed;
using MtlHost.Core.Training;
using MtlHost.HotReload;

namespace MtlHost.Runs;

/// <summary>A running joint training run, as <see cref="TrainingRun.Started"/> sees it.</summary>
/// <param name="Trainer">The trainer; its events report every step and evaluation.</param>
/// <param name="HotReload">The plugin folder watcher with --watch (and in the worker service), else <see langword="null"/>.</param>
/// <param name="OutDirectory">The run folder.</param>
/// <param name="WriteCheckpoint">
/// Writes a resumable checkpoint of the run now to <c>&lt;out&gt;/checkpoints/step-N</c> (the newest <c>--keep-checkpoints</c>
/// are kept); call it only on the training thread. Returns its folder. The run also writes one at its end, unless this
/// step's is already written.
/// </param>
/// <param name="ResumedFrom">The checkpoint folder the run resumed from (its step is the trainer's at start), or <see langword="null"/> for a new run.</param>
/// <param name="Group">
/// The processes training together: one alone, several under <c>mpirun</c> (every change to the run between two steps is
/// then made on every process alike, through the group's collectives).
/// </param>
public sealed record TrainingRunContext(JointTrainer Trainer, HotReloadCoordinator? HotReload, string OutDirectory, Func<string> WriteCheckpoint,
    string? ResumedFrom, IProcessGroup Group);
