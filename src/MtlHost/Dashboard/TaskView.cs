namespace MtlHost.Dashboard;

/// <summary>One task of the run, as <c>GET /api/status</c> shows it.</summary>
/// <param name="Id">The task id.</param>
/// <param name="Plugin">The plugin that provides it.</param>
/// <param name="State"><c>Training</c>, <c>Quarantined</c> or <c>Removed</c> (taken out of the run, its head archived).</param>
/// <param name="Reason">Why it was quarantined, if it was.</param>
/// <param name="StepsTrained">Steps that trained it.</param>
/// <param name="LastLoss">Its loss on its last training batch, or <see langword="null"/>.</param>
/// <param name="SmoothedLoss">Its exponentially smoothed training loss, or <see langword="null"/>.</param>
/// <param name="Weight">The weight the loss weighting gave it last, or <see langword="null"/>.</param>
/// <param name="PrimaryMetric">Name of its metric's primary score, once evaluated.</param>
/// <param name="LastScore">That score at the last evaluation, or <see langword="null"/>.</param>
public sealed record TaskView(string Id, string Plugin, string State, string? Reason, int StepsTrained, double? LastLoss, double? SmoothedLoss,
    double? Weight, string? PrimaryMetric, double? LastScore);
