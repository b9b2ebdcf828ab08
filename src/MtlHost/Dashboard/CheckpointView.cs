namespace MtlHost.Dashboard;

/// <summary>A checkpoint the run wrote.</summary>
/// <param name="Path">Its folder.</param>
/// <param name="Step">The step it holds.</param>
/// <param name="At">When it was written (UTC).</param>
public sealed record CheckpointView(string Path, int Step, DateTime At);
