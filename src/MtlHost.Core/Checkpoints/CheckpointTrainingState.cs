using MtlHost.Core.Training;

namespace MtlHost.Core.Checkpoints;

/// <summary>What <see cref="CheckpointWriter"/> needs, beyond the model, to make a checkpoint a run can resume from.</summary>
/// <param name="Optimizers">The run's optimizers, whose state is saved.</param>
/// <param name="Settings">Settings a resumed run must share, by command-line option name.</param>
/// <param name="Selection">Model selection's state.</param>
public sealed record CheckpointTrainingState(TrainingOptimizers Optimizers, IReadOnlyDictionary<string, string> Settings, CheckpointManifest.SelectionEntry Selection);
