namespace MtlHost.Abstractions;

/// <summary>The training losses <see cref="RegressionLoss"/> offers.</summary>
public enum RegressionLossFunction
{
    /// <summary>Mean of (prediction − target)²: the usual choice; large errors dominate.</summary>
    MeanSquaredError,

    /// <summary>
    /// Huber loss: ½·e² for |e| ≤ δ, δ·(|e| − ½·δ) beyond, so outliers and noisy targets pull with at
    /// most δ per example instead of their full error.
    /// </summary>
    Huber,
}
