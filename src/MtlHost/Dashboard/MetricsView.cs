namespace MtlHost.Dashboard;

/// <summary>The body of <c>GET /api/metrics</c>: every task's curves.</summary>
/// <param name="Step">Steps taken.</param>
/// <param name="Tasks">Each task's curves, by id.</param>
public sealed record MetricsView(int Step, IReadOnlyList<TaskCurvesView> Tasks);
