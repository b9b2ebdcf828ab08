namespace MtlHost.Evaluation;

/// <summary>One task's single-task baseline in <c>baselines.json</c>: its validation scores and the run they came from.</summary>
/// <param name="Primary">Name of the primary score.</param>
/// <param name="HigherIsBetter">Direction of the primary score.</param>
/// <param name="Score">Value of the primary score.</param>
/// <param name="Scores">Every validation score by name.</param>
/// <param name="Encoder">Encoder of the single-task run.</param>
/// <param name="Steps">Steps of the single-task run.</param>
/// <param name="Seed">Seed of the single-task run, when known.</param>
/// <param name="Source">The <c>summary.json</c> it was read from.</param>
public sealed record TaskBaseline(string Primary, bool HigherIsBetter, double Score, IReadOnlyDictionary<string, double> Scores,
    string Encoder, int Steps, int? Seed, string Source);
