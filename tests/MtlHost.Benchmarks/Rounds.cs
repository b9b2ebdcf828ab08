namespace MtlHost.Benchmarks;

/// <summary>What the benchmarks report over their rounds.</summary>
public static class Rounds
{
    /// <summary>The median: the middle value, or the mean of the two middle values of an even count.</summary>
    /// <param name="values">One figure per round, at least one.</param>
    /// <returns>The median.</returns>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
