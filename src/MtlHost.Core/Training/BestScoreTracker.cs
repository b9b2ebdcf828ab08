namespace MtlHost.Core.Training;

/// <summary>
/// Follows a run's selection score (higher is better) over its evaluations: says when a new best is
/// reached, so the best checkpoint can be kept, and when <see cref="Patience"/> evaluations in a row
/// brought nothing better, so training can stop early.
/// </summary>
public sealed class BestScoreTracker
{
    /// <summary>Creates the tracker.</summary>
    /// <param name="patience">Evaluations without improvement before <see cref="ShouldStop"/>; 0 never stops.</param>
    /// <param name="minimumImprovement">How much better a score must be to count as better.</param>
    public BestScoreTracker(int patience, double minimumImprovement = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(patience);
        Patience = patience;
        MinimumImprovement = minimumImprovement;
    }

    /// <summary>Evaluations without improvement before stopping; 0 never stops.</summary>
    public int Patience { get; }

    /// <summary>How much better a score must be to count as better.</summary>
    public double MinimumImprovement { get; }

    /// <summary>The best score so far; negative infinity before the first.</summary>
    public double Best { get; private set; } = double.NegativeInfinity;

    /// <summary>The step of the best score; -1 before the first.</summary>
    public int BestStep { get; private set; } = -1;

    /// <summary>Evaluations since the best one.</summary>
    public int EvaluationsSinceBest { get; private set; }

    /// <summary>Whether patience has run out.</summary>
    public bool ShouldStop => Patience > 0 && EvaluationsSinceBest >= Patience;

    /// <summary>Puts the tracker back where a checkpointed run left it, so that the best and the patience count carry on.</summary>
    /// <param name="best">The best score.</param>
    /// <param name="bestStep">Its step; -1 when there was none.</param>
    /// <param name="evaluationsSinceBest">Evaluations since.</param>
    public void Restore(double best, int bestStep, int evaluationsSinceBest)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(evaluationsSinceBest);
        Best = best;
        BestStep = bestStep;
        EvaluationsSinceBest = evaluationsSinceBest;
    }

    /// <summary>Records an evaluation's score.</summary>
    /// <param name="step">The step it was taken at.</param>
    /// <param name="score">The selection score; a non-finite score never counts as better.</param>
    /// <returns>Whether it is a new best.</returns>
    public bool Observe(int step, double score)
    {
        if (double.IsFinite(score) && (BestStep < 0 || score > Best + MinimumImprovement))
        {
            Best = score;
            BestStep = step;
            EvaluationsSinceBest = 0;
            return true;
        }
        EvaluationsSinceBest++;
        return false;
    }
}
