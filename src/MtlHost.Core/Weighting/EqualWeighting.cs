namespace MtlHost.Core.Weighting;

/// <summary>EW: the plain sum of the task losses, Σ_i L_i. The baseline every other strategy is measured against.</summary>
public sealed class EqualWeighting : ILossWeighting
{
    /// <inheritdoc />
    public string Name => "ew";

    /// <inheritdoc />
    public bool NeedsEveryTask => false;

    /// <inheritdoc />
    public IReadOnlyList<double> Backward(WeightingStep step)
    {
        var weights = Enumerable.Repeat(1.0, step.Count).ToArray();
        step.BackwardWeighted(weights);
        return weights;
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, double[]> GetState() => TaskStateTable.Empty;

    /// <inheritdoc />
    public void SetState(IReadOnlyDictionary<string, double[]> state) => TaskStateTable.RequireEmpty(Name, state);
}
