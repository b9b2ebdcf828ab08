using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;

namespace MtlHost.Core.Checkpoints;

/// <summary>
/// The periodic checkpoints of a run: <c>&lt;out&gt;/checkpoints/step-000000123/</c>, each written atomically by
/// <see cref="CheckpointWriter"/> (staging folder + rename), the newest <see cref="Keep"/> kept. The latest
/// checkpoint is the highest step whose manifest parses and whose files are all there at their recorded
/// lengths: a torn or foreign folder is skipped with a warning and never loaded.
/// </summary>
public sealed partial class CheckpointStore
{
    /// <summary>The store's folder name inside a run folder.</summary>
    public const string FolderName = "checkpoints";

    private readonly ILogger _logger;

    /// <summary>Creates the store; nothing is written until <see cref="Write"/>.</summary>
    /// <param name="runDirectory">The run folder (<c>--out</c>); checkpoints go to its <c>checkpoints</c> folder.</param>
    /// <param name="keep">How many of the newest checkpoints to keep; at least 1.</param>
    /// <param name="logger">Receives what was written, skipped and deleted.</param>
    public CheckpointStore(string runDirectory, int keep, ILogger logger)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(keep, 1);
        Root = RootOf(runDirectory);
        Keep = keep;
        _logger = logger;
    }

    /// <summary>The <c>checkpoints</c> folder.</summary>
    public string Root { get; }

    /// <summary>How many of the newest checkpoints are kept.</summary>
    public int Keep { get; }

    /// <summary>The folder of the checkpoint of <paramref name="step"/>.</summary>
    /// <param name="step">Steps taken.</param>
    /// <returns>Its full path.</returns>
    public string FolderOf(int step) => Path.Combine(Root, "step-" + step.ToString("D9", CultureInfo.InvariantCulture));

    /// <summary>
    /// Writes the checkpoint of <paramref name="step"/> with <paramref name="write"/> (which must write atomically
    /// to the folder it is given, as <see cref="CheckpointWriter.Write"/> does), then deletes the checkpoints older
    /// than the newest <see cref="Keep"/> — only once the new one is in place.
    /// </summary>
    /// <param name="step">Steps taken.</param>
    /// <param name="write">Writes the checkpoint into the folder it is given.</param>
    /// <returns>The checkpoint's folder.</returns>
    public string Write(int step, Action<string> write)
    {
        var folder = FolderOf(step);
        write(folder);
        DeleteInterruptedDeletions();
        var steps = StepFolders(Root).OrderByDescending(f => f.Step).ToList();
        foreach (var old in steps.Skip(Keep))
        {
            try
            {
                // Renamed out of the step-N names first (atomic), then deleted: a crash mid-delete leaves a dot folder
                // that the next start cleans up, never a half-deleted step-N folder that looks like a torn checkpoint.
                var doomed = Path.Combine(Root, $".{Path.GetFileName(old.Path)}.deleting-{Environment.ProcessId}");
                Directory.Move(old.Path, doomed);
                Directory.Delete(doomed, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A checkpoint that cannot be deleted now costs disk space, not correctness; the next write retries
                // (the step-N folder is still beyond Keep, or its .deleting folder is cleaned by DeleteInterruptedDeletions).
                _logger.LogWarning("Could not delete old checkpoint {Checkpoint}: {Reason}", old.Path, e.Message);
            }
        }
        return folder;
    }

    /// <summary>
    /// The newest complete checkpoint, or <see langword="null"/> when there is none. Leftovers of writes that were
    /// interrupted (staging folders) are deleted first; incomplete or unreadable folders are skipped with a warning.
    /// </summary>
    /// <returns>The checkpoint's folder and manifest.</returns>
    public (string Directory, CheckpointManifest Manifest)? FindLatest() => FindLatestIn(Root, _logger);

    /// <summary>
    /// The newest complete checkpoint of a run folder, as <see cref="FindLatest()"/> finds it, for a reader that writes
    /// no checkpoint and so has no <see cref="Keep"/> to give.
    /// </summary>
    /// <param name="runDirectory">The run folder (<c>--out</c>).</param>
    /// <param name="logger">Receives what was cleaned and skipped.</param>
    /// <returns>The checkpoint's folder and manifest, or <see langword="null"/> when there is none.</returns>
    public static (string Directory, CheckpointManifest Manifest)? FindLatest(string runDirectory, ILogger logger) =>
        FindLatestIn(RootOf(runDirectory), logger);

    private static (string Directory, CheckpointManifest Manifest)? FindLatestIn(string root, ILogger logger)
    {
        if (!Directory.Exists(root))
        {
            return null;
        }
        RecoverInterruptedWrites(root, logger);
        foreach (var (step, path) in StepFolders(root).OrderByDescending(f => f.Step))
        {
            var problem = Verify(path, out var manifest);
            if (problem is null && manifest!.Step == step)
            {
                return (path, manifest);
            }
            logger.LogWarning("Skipping checkpoint {Checkpoint}: {Problem}", path, problem ?? $"its manifest says step {manifest!.Step}, not {step}");
        }
        return null;
    }

    /// <summary>Checks that a checkpoint folder is complete and resumable.</summary>
    /// <param name="directory">The folder.</param>
    /// <param name="manifest">Its manifest, when it parses.</param>
    /// <returns>What is wrong, or <see langword="null"/> when the checkpoint is complete.</returns>
    public static string? Verify(string directory, out CheckpointManifest? manifest)
    {
        manifest = null;
        if (!File.Exists(Path.Combine(directory, "manifest.json")))
        {
            return "it has no manifest.json";
        }
        try
        {
            // The reader's checks, so that a checkpoint this store would resume is one every reader accepts (format included).
            manifest = CheckpointReader.ReadManifest(directory);
        }
        catch (Exception e) when (e is CheckpointException or IOException or UnauthorizedAccessException or NotSupportedException)
        {
            return $"its manifest.json cannot be read ({e.Message})";
        }
        if (manifest.Training is null || manifest.Files.Count == 0)
        {
            return "it holds a model but no training state to resume from";
        }
        foreach (var file in manifest.Files)
        {
            var info = new FileInfo(Path.Combine(directory, file.Path));
            if (!info.Exists)
            {
                return $"its file {file.Path} is missing";
            }
            if (info.Length != file.Length)
            {
                return $"its file {file.Path} has {info.Length} bytes, not the {file.Length} recorded";
            }
        }
        return null;
    }

    /// <summary>
    /// Cleans up after <see cref="CheckpointWriter"/> writes into <paramref name="parent"/> that a crash interrupted:
    /// a staging folder (<c>.name.tmp-PID</c>) is deleted; a checkpoint moved aside to be replaced
    /// (<c>.name.old-PID</c>) is put back when its replacement never arrived, else deleted; an old checkpoint
    /// whose deletion was cut short (<c>.name.deleting-PID</c>) is deleted.
    /// </summary>
    /// <param name="parent">The folder holding checkpoint folders.</param>
    /// <param name="logger">Receives what was cleaned.</param>
    public static void RecoverInterruptedWrites(string parent, ILogger logger)
    {
        if (!Directory.Exists(parent))
        {
            return;
        }
        foreach (var folder in Directory.EnumerateDirectories(parent))
        {
            var match = Leftover().Match(Path.GetFileName(folder));
            if (!match.Success)
            {
                continue;
            }
            var final = Path.Combine(parent, match.Groups["name"].Value);
            try
            {
                if (match.Groups["kind"].Value == "old" && !Directory.Exists(final))
                {
                    Directory.Move(folder, final);
                    logger.LogWarning("Put back checkpoint {Checkpoint}: a crash interrupted its replacement", final);
                }
                else
                {
                    Directory.Delete(folder, recursive: true);
                    logger.LogInformation("Deleted {Folder}, left by an interrupted checkpoint write", folder);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                logger.LogWarning("Could not clean up {Folder}: {Reason}", folder, e.Message);
            }
        }
    }

    private static string RootOf(string runDirectory) => Path.Combine(Path.GetFullPath(runDirectory), FolderName);

    // Only the .deleting leftovers: a .tmp or .old folder may belong to a write in progress in another process, and is
    // recovered at the next start (FindLatest) instead.
    private void DeleteInterruptedDeletions()
    {
        if (!Directory.Exists(Root))
        {
            return;
        }
        foreach (var folder in Directory.EnumerateDirectories(Root))
        {
            var match = Leftover().Match(Path.GetFileName(folder));
            if (!match.Success || match.Groups["kind"].Value != "deleting")
            {
                continue;
            }
            try
            {
                Directory.Delete(folder, recursive: true);
                _logger.LogInformation("Deleted {Folder}, left by an interrupted deletion of an old checkpoint", folder);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _logger.LogWarning("Could not delete {Folder}, left by an interrupted deletion of an old checkpoint: {Reason}", folder, e.Message);
            }
        }
    }

    private static IEnumerable<(int Step, string Path)> StepFolders(string root)
    {
        if (!Directory.Exists(root))
        {
            yield break;
        }
        foreach (var folder in Directory.EnumerateDirectories(root))
        {
            var match = StepFolder().Match(Path.GetFileName(folder));
            if (match.Success && int.TryParse(match.Groups["step"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var step))
            {
                yield return (step, folder);
            }
        }
    }

    [GeneratedRegex("^step-(?<step>[0-9]{1,10})$")]
    private static partial Regex StepFolder();

    [GeneratedRegex(@"^\.(?<name>.+)\.(?<kind>tmp|old|deleting)-[0-9]+$")]
    private static partial Regex Leftover();
}
