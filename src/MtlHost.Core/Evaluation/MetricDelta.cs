namespace MtlHost.Core.Evaluation;

/// <summary>One score of one task in Δm%: baseline, run, and its signed relative change.</summary>
/// <param name="Name">Score name.</param>
/// <param name="HigherIsBetter">Its direction.</param>
/// <param name="Baseline">Baseline value B.</param>
/// <param name="Run">Run value N.</param>
/// <param name="Percent">
/// (−1)^w (B − N) / |B| × 100, positive when the run is better; <see langword="null"/> when the
/// score was skipped (see <paramref name="Note"/>).
/// </param>
/// <param name="Note">Why it was skipped or how it was computed, when that is not the plain formula.</param>
public sealed record MetricDelta(string Name, bool HigherIsBetter, double Baseline, double Run, double? Percent, string? Note);
