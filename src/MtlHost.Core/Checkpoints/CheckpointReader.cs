using System.Text.Json;

namespace MtlHost.Core.Checkpoints;

/// <summary>Reads what <see cref="CheckpointWriter"/> wrote, with one clear message for a missing or damaged checkpoint.</summary>
public static class CheckpointReader
{
    /// <summary>Reads <c>manifest.json</c> of a checkpoint folder.</summary>
    /// <param name="directory">The checkpoint folder.</param>
    /// <returns>The manifest.</returns>
    /// <exception cref="CheckpointException">The folder or its manifest is missing, or the manifest is not valid.</exception>
    public static CheckpointManifest ReadManifest(string directory)
    {
        var full = Path.GetFullPath(directory);
        if (!Directory.Exists(full))
        {
            throw new CheckpointException($"Checkpoint folder '{full}' does not exist; pass the checkpoint folder a training run wrote " +
                                          "(<run>/checkpoint, or <run>/best).");
        }
        var path = Path.Combine(full, "manifest.json");
        if (!File.Exists(path))
        {
            throw new CheckpointException($"'{full}' holds no manifest.json, so it is not a checkpoint folder; pass the checkpoint folder " +
                                          "a training run wrote (<run>/checkpoint, or <run>/best).");
        }
        CheckpointManifest manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<CheckpointManifest>(File.ReadAllText(path), CheckpointWriter.JsonOptions)
                       ?? throw new JsonException("the file holds null");
        }
        catch (JsonException e)
        {
            throw new CheckpointException($"'{path}' is not a valid checkpoint manifest ({e.Message}); the checkpoint is damaged, write it again with a training run.", e);
        }
        if (manifest.Format != 1)
        {
            throw new CheckpointException($"'{path}' is of checkpoint format {manifest.Format}; this host reads format 1. Use the host version that wrote it.");
        }
        return manifest;
    }

    /// <summary>The absolute path of a file the manifest names, checked to exist.</summary>
    /// <param name="directory">The checkpoint folder.</param>
    /// <param name="relative">The path the manifest gives.</param>
    /// <param name="what">What the file holds, for the message (for example <c>head weights of task 'spam'</c>).</param>
    /// <returns>The path.</returns>
    /// <exception cref="CheckpointException">The file is missing.</exception>
    public static string RequireFile(string directory, string relative, string what)
    {
        var path = Path.GetFullPath(Path.Combine(directory, relative));
        return File.Exists(path)
            ? path
            : throw new CheckpointException($"The {what} ('{path}') are missing; the checkpoint is incomplete, write it again with a training run.");
    }

    /// <summary>Reads the tensors of a weights file of the checkpoint without building its module.</summary>
    /// <param name="path">The file, as <see cref="RequireFile"/> returns it.</param>
    /// <returns>The tensors, in file order.</returns>
    /// <exception cref="CheckpointException">The file cannot be read or is not in TorchSharp's format.</exception>
    public static IReadOnlyList<StoredTensor> ReadWeights(string path)
    {
        try
        {
            return TorchSharpStateFile.Read(path);
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            throw new CheckpointException($"'{path}' cannot be read ({e.Message}); the checkpoint is damaged, write it again with a training run.", e);
        }
    }
}
