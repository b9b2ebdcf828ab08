namespace MtlHost.Core.Training;

/// <summary>What happened to each tensor of a head when a new version of its task took over.</summary>
/// <param name="Kept">Tensors of the new head whose name and shape matched the old head's: values and optimizer state carried over.</param>
/// <param name="Reset">Tensors of the new head that were new or changed shape: freshly initialised by the plugin.</param>
/// <param name="Dropped">Tensors of the old head that the new head no longer has.</param>
public sealed record HeadTransferReport(IReadOnlyList<string> Kept, IReadOnlyList<string> Reset, IReadOnlyList<string> Dropped)
{
    /// <summary>A report for a head that started from scratch.</summary>
    /// <param name="reset">Every tensor of the new head.</param>
    /// <returns>The report.</returns>
    public static HeadTransferReport Fresh(IReadOnlyList<string> reset) => new([], reset, []);
}
