namespace MtlHost.Abstractions;

/// <summary>
/// The dataset adapter of a task: yields raw examples of a split. The host tokenizes, batches and
/// caches them; an adapter only reads and validates its source.
/// </summary>
public interface ITaskDataset
{
    /// <summary>Reads every usable example of <paramref name="split"/>, in a stable order.</summary>
    /// <param name="split">The partition to read.</param>
    /// <returns>The examples. Bad records are reported through <see cref="TaskContext.ReportDataProblem"/> and skipped.</returns>
    /// <exception cref="TaskDataException">The data cannot be used (missing file, too many bad records).</exception>
    IEnumerable<TaskExample> Read(DataSplit split);
}
