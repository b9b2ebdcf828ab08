using MtlHost.Core.Encoders;

namespace MtlHost.Core.Checkpoints;

/// <summary>The shape of a checkpoint's encoder, from this host's catalog, checked against what the manifest recorded.</summary>
public static class CheckpointEncoder
{
    /// <summary>The configuration the checkpoint's encoder was built with.</summary>
    /// <param name="directory">The checkpoint folder (for messages).</param>
    /// <param name="manifest">Its manifest.</param>
    /// <returns>The catalog's configuration of the encoder the manifest names.</returns>
    /// <exception cref="CheckpointException">The encoder is unknown to this host, or the host's encoder of that name has another shape.</exception>
    public static BertConfig ConfigOf(string directory, CheckpointManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var entry = manifest.Encoder;
        if (!EncoderCatalog.IsKnown(entry.Name))
        {
            throw new CheckpointException($"Checkpoint '{directory}' names encoder '{entry.Name}', which this host does not know ({string.Join(", ", EncoderCatalog.Names)}).");
        }
        var config = EncoderCatalog.ConfigOf(entry.Name);
        if (config.HiddenSize != entry.HiddenSize || config.LayerCount != entry.Layers || config.HeadCount != entry.Heads)
        {
            throw new CheckpointException($"Checkpoint '{directory}' has a {entry.Layers}-layer encoder of width {entry.HiddenSize} named '{entry.Name}', " +
                                          $"but this host's '{entry.Name}' is {config.LayerCount} layers of width {config.HiddenSize}; use the host version that wrote it.");
        }
        return config;
    }
}
