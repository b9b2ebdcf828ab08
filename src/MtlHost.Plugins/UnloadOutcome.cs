namespace MtlHost.Plugins;

/// <summary>Whether an unloaded plugin's load context was freed.</summary>
/// <param name="Plugin">The plugin's name.</param>
/// <param name="Version">The version that was unloaded.</param>
/// <param name="Collected">Whether the context was garbage-collected within the wait.</param>
/// <param name="Milliseconds">How long it took, or how long was waited.</param>
public sealed record UnloadOutcome(string Plugin, string Version, bool Collected, double Milliseconds);
