namespace MtlHost.Abstractions;

/// <summary>One unusable record in a task's data.</summary>
/// <param name="File">The data file.</param>
/// <param name="Line">One-based line number, or 0 when the problem concerns the whole file.</param>
/// <param name="Problem">What is wrong, phrased so that the fix is clear.</param>
public sealed record DataProblem(string File, int Line, string Problem)
{
    /// <inheritdoc />
    public override string ToString() => Line > 0 ? $"{File}:{Line}: {Problem}" : $"{File}: {Problem}";
}
