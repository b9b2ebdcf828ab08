namespace MtlHost.Core.Evaluation;

/// <summary>Which scores of a task count in Δm%.</summary>
public enum DeltaMScope
{
    /// <summary>The task's primary score only (M_t = 1): the usual report.</summary>
    Primary,

    /// <summary>Every score present on both sides whose direction is known (see <see cref="MetricDirections"/>).</summary>
    AllKnownMetrics,
}
