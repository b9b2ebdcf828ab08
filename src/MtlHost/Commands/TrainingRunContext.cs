using MtlHost.Core.Training;
using MtlHost.HotReload;

namespace MtlHost.Commands;

/// <summary>A running joint training run, as <see cref="RunHooks.Started"/> sees it.</summary>
/// <param name="Trainer">The trainer; its events report every step and evaluation.</param>
/// <param name="HotReload">The plugin folder watcher with --watch (and in the worker service), else <see langword="null"/>.</param>
/// <param name="OutDirectory">The run folder.</param>
/// <param name="WriteCheckpoint">Writes a checkpoint of the run now; call it only on the training thread. Returns its folder.</param>
public sealed record TrainingRunContext(JointTrainer Trainer, HotReloadCoordinator? HotReload, string OutDirectory, Func<string> WriteCheckpoint);
