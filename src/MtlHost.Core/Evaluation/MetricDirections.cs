namespace MtlHost.Core.Evaluation;

/// <summary>
/// Which way is better for the score names the SDK's metrics report, so Δm% can count scores other
/// than a task's primary one (whose direction the metric states itself).
/// </summary>
/// <remarks>
/// <list type="table">
/// <listheader><term>higher is better</term><description>lower is better</description></listheader>
/// <item><term>accuracy, f1, mcc, pearson, spearman, precision, recall, exact_match, auc, r2</term>
/// <description>mae, mse, rmse, loss, error</description></item>
/// </list>
/// A name matches either exactly or by its last <c>_</c>-separated part, so <c>macro_f1</c>,
/// <c>micro_precision</c>, <c>span_recall</c> and <c>token_accuracy</c> are known. Anything else is
/// unknown and is left out of Δm% rather than guessed.
/// </remarks>
public static class MetricDirections
{
    private static readonly Dictionary<string, bool> Table = new(StringComparer.OrdinalIgnoreCase)
    {
        ["accuracy"] = true,
        ["f1"] = true,
        ["mcc"] = true,
        ["pearson"] = true,
        ["spearman"] = true,
        ["precision"] = true,
        ["recall"] = true,
        ["exact_match"] = true,
        ["auc"] = true,
        ["r2"] = true,
        ["mae"] = false,
        ["mse"] = false,
        ["rmse"] = false,
        ["loss"] = false,
        ["error"] = false,
    };

    /// <summary>The known names and whether higher is better for each.</summary>
    public static IReadOnlyDictionary<string, bool> Known => Table;

    /// <summary>Whether higher is better for a score name, if known.</summary>
    /// <param name="scoreName">A score name such as <c>macro_f1</c> or <c>mae</c>.</param>
    /// <returns><see langword="true"/> or <see langword="false"/>; <see langword="null"/> when the name is not known.</returns>
    public static bool? HigherIsBetter(string scoreName)
    {
        if (Table.TryGetValue(scoreName, out var exact))
        {
            return exact;
        }
        var underscore = scoreName.LastIndexOf('_');
        return underscore >= 0 && Table.TryGetValue(scoreName[(underscore + 1)..], out var suffix) ? suffix : null;
    }
}
