namespace MtlHost.Runs;

/// <summary>How a <see cref="TrainingRun"/> ended.</summary>
/// <param name="Summary">What it trained and scored, as saved in <c>summary.json</c>; <see langword="null"/> when it failed (every task quarantined).</param>
public sealed record TrainingRunResult(RunSummary? Summary)
{
    /// <summary>Whether the run trained to its end (step budget, early stop or a stop request) and saved its results.</summary>
    public bool Succeeded => Summary is not null;

    /// <summary>This process's rank among the processes that trained together (0 when alone): rank 0 reports the results.</summary>
    public int Rank { get; init; }

    /// <summary>The folder of the model the run ended with, or <see langword="null"/> when it failed.</summary>
    public string? Checkpoint => Summary?.Checkpoint;
}
