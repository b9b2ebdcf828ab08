namespace MtlHost.Core.Sharing;

/// <summary>
/// Settings of the sharing strategies; each strategy reads the ones it needs.
/// </summary>
/// <param name="SharedLayers">
/// For <c>top-layers</c>: k, how many bottom layers (above the embeddings) all branches share; the top
/// L − k layers are copied per branch. <see langword="null"/> picks <see cref="TopLayerSharing.DefaultSharedLayers"/>.
/// </param>
/// <param name="AdapterSize">For <c>adapters</c>: the bottleneck width of each adapter.</param>
public sealed record SharingOptions(int? SharedLayers = null, int AdapterSize = SharingOptions.DefaultAdapterSize)
{
    /// <summary>Default bottleneck width: 64, mid-range of the sizes Houlsby et al. (2019) searched (8 to 256).</summary>
    public const int DefaultAdapterSize = 64;

    /// <summary>Related tasks that share a branch, written as <c>name: task, task; name: task, task</c> (see <see cref="Sharing.TaskGroups"/>).</summary>
    public string? TaskGroups { get; init; }

    /// <summary>Every setting at its default.</summary>
    public static SharingOptions Default { get; } = new();
}
