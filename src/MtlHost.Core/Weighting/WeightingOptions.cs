namespace MtlHost.Core.Weighting;

/// <summary>
/// Settings of the weighting strategies; each strategy reads the ones it needs. The defaults are the
/// papers' values.
/// </summary>
public sealed record WeightingOptions
{
    /// <summary>The defaults.</summary>
    public static WeightingOptions Default { get; } = new();

    /// <summary>DWA's temperature T (Liu et al. 2019 use 2).</summary>
    public double DwaTemperature { get; init; } = 2.0;

    /// <summary>
    /// DWA's averaging window, in the task's own steps: the paper compares epoch-mean losses, and a
    /// sampled multi-task run has no common epoch.
    /// </summary>
    public int DwaWindow { get; init; } = 50;

    /// <summary>GradNorm's restoring force α (Chen et al. 2018 use 1.5).</summary>
    public double GradNormAlpha { get; init; } = 1.5;

    /// <summary>CAGrad's c, the radius of the ball around the mean gradient (Liu et al. 2021 use 0.5).</summary>
    public double CAGradC { get; init; } = 0.5;

    /// <summary>How MGDA scales the task gradients before solving.</summary>
    public MgdaNormalization MgdaNormalization { get; init; } = MgdaNormalization.None;

    /// <summary>
    /// MGDA-UB: solve on the gradients with respect to the shared representation (one backward pass
    /// through the encoder instead of one per task).
    /// </summary>
    public bool MgdaUpperBound { get; init; }

    /// <summary>Learning rate of the learned weights (UW's log-variances, GradNorm's weights, FAMO's logits), for their Adam.</summary>
    public double LearningRate { get; init; } = 0.025;

    /// <summary>FAMO's weight decay γ on its logits (Liu et al. 2023 use 0.01).</summary>
    public double FamoGamma { get; init; } = 0.01;

    /// <summary>Checks every setting.</summary>
    /// <exception cref="ArgumentException">A setting is out of range; the message names it and its range.</exception>
    public void Validate()
    {
        Require(DwaTemperature > 0 && double.IsFinite(DwaTemperature), nameof(DwaTemperature), DwaTemperature, "a positive number");
        Require(DwaWindow >= 1, nameof(DwaWindow), DwaWindow, "a whole number of steps, at least 1");
        Require(GradNormAlpha >= 0 && double.IsFinite(GradNormAlpha), nameof(GradNormAlpha), GradNormAlpha, "zero or more");
        Require(CAGradC >= 0 && double.IsFinite(CAGradC), nameof(CAGradC), CAGradC, "zero or more");
        Require(Enum.IsDefined(MgdaNormalization), nameof(MgdaNormalization), MgdaNormalization, string.Join(", ", Enum.GetNames<MgdaNormalization>()));
        Require(LearningRate > 0 && double.IsFinite(LearningRate), nameof(LearningRate), LearningRate, "a positive number");
        Require(FamoGamma >= 0 && double.IsFinite(FamoGamma), nameof(FamoGamma), FamoGamma, "zero or more");
    }

    private static void Require(bool ok, string name, object value, string range)
    {
        if (!ok)
        {
            throw new ArgumentException($"Weighting option {name} is {value}; it must be {range}.");
        }
    }
}
