namespace MtlHost.Dashboard;

/// <summary>One task's curves in <c>GET /api/metrics</c>; points are <c>[step, value]</c> pairs, oldest first.</summary>
/// <param name="Id">The task.</param>
/// <param name="Loss">Training loss; each point is the mean of <paramref name="LossValuesPerPoint"/> consecutive steps of the task.</param>
/// <param name="LossValuesPerPoint">How many raw losses each point averages (grows as a long run is downsampled).</param>
/// <param name="Metric">Name of the primary validation score, once evaluated.</param>
/// <param name="HigherIsBetter">Its direction, once evaluated.</param>
/// <param name="Scores">The primary validation score at each evaluation.</param>
/// <param name="Weights">The weight the loss weighting gave the task.</param>
public sealed record TaskCurvesView(string Id, IReadOnlyList<double[]> Loss, int LossValuesPerPoint, string? Metric, bool? HigherIsBetter,
    IReadOnlyList<double[]> Scores, IReadOnlyList<double[]> Weights);
