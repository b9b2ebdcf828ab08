using System.Text.Json;
using MtlHost.Formats;

namespace MtlHost.HotReload;

/// <summary>
/// The plugin status of a watched run as a file in its run folder, so that another process
/// (<c>mtlhost plugins list --run DIR</c>) can see a trainer that is running. Every write replaces the
/// whole file by renaming a finished temporary file over it, so a reader never sees half a file.
/// </summary>
public sealed class PluginStatusFile
{
    /// <summary>The file's name in the run folder.</summary>
    public const string FileName = "plugins-status.json";

    private readonly object _lock = new();

    /// <summary>Creates the writer; nothing is written yet.</summary>
    /// <param name="path">The status file (usually <c>RUN/plugins-status.json</c>); its folder is created on the first write.</param>
    public PluginStatusFile(string path) => FilePath = Path.GetFullPath(path);

    /// <summary>The status file.</summary>
    public string FilePath { get; }

    /// <summary>Writes <paramref name="status"/> atomically. Safe to call from several threads: writes are serialised.</summary>
    /// <param name="status">The run's status, read now (under the write lock, so a later state is never overwritten by an earlier one).</param>
    /// <exception cref="IOException">The file could not be written.</exception>
    /// <exception cref="UnauthorizedAccessException">The folder is not writable.</exception>
    public void Write(Func<RunPluginStatus> status)
    {
        lock (_lock)
        {
            var json = JsonSerializer.SerializeToUtf8Bytes(status(), HostJson.Options);
            Directory.CreateDirectory(Path.GetDirectoryName(FilePath)!);
            // Same folder, so the rename cannot cross file systems and replaces the file in one step.
            var temporary = $"{FilePath}.{Environment.ProcessId}.tmp";
            File.WriteAllBytes(temporary, json);
            File.Move(temporary, FilePath, overwrite: true);
        }
    }

    /// <summary>Reads the status a watched run wrote.</summary>
    /// <param name="runDirectoryOrFile">The run folder (its <c>--out</c>), or the status file itself.</param>
    /// <returns>The status.</returns>
    /// <exception cref="FileNotFoundException">No status file there.</exception>
    /// <exception cref="InvalidDataException">The file is not a plugin status.</exception>
    public static RunPluginStatus Read(string runDirectoryOrFile)
    {
        var path = Directory.Exists(runDirectoryOrFile) ? Path.Combine(runDirectoryOrFile, FileName) : runDirectoryOrFile;
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"'{path}' does not exist.", path);
        }
        // The writer replaces the file by a rename; on Windows a reader may briefly find it locked.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return JsonSerializer.Deserialize<RunPluginStatus>(File.ReadAllBytes(path), HostJson.Options)
                       ?? throw new InvalidDataException($"'{path}' is empty.");
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"'{path}' is not a plugin status file: {e.Message}", e);
            }
            catch (IOException) when (attempt < 5)
            {
                Thread.Sleep(50);
            }
        }
    }
}
