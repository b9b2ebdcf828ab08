using MtlHost.Core.Training;

namespace MtlHost.HotReload;

/// <summary>A version loaded, validated and with its tasks prepared (data read, heads built), ready to join the run.</summary>
/// <param name="Plugin">The version.</param>
/// <param name="Runtimes">Its tasks.</param>
/// <param name="Milliseconds">How long loading and preparing took.</param>
internal sealed record PreparedPlugin(ActivePlugin Plugin, IReadOnlyList<TaskRuntime> Runtimes, double Milliseconds);
