namespace MtlHost.Dashboard;

/// <summary>The body of <c>POST /api/predict</c>.</summary>
/// <param name="Text">The text to predict on.</param>
/// <param name="Pair">The second text, for pair tasks.</param>
/// <param name="Task">One task by id; every task when absent.</param>
public sealed record PredictRequest(string? Text, string? Pair = null, string? Task = null);
