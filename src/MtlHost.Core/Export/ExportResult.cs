namespace MtlHost.Core.Export;

/// <summary>What <see cref="CheckpointExporter.Export"/> wrote.</summary>
/// <param name="Directory">The export folder, absolute.</param>
/// <param name="Files">The files written, relative to <paramref name="Directory"/>.</param>
/// <param name="TensorCount">Tensors written over all files.</param>
public sealed record ExportResult(string Directory, IReadOnlyList<string> Files, int TensorCount);
