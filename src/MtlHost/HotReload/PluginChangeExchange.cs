using MtlHost.Core.Distributed;
using MtlHost.Plugins;

namespace MtlHost.HotReload;

/// <summary>
/// Hot reload across processes (<c>mpirun … train --watch</c>): rank 0 alone watches the plugins folder; at every step
/// boundary it sends every rank the changes it is about to apply, each with the files of the version it loaded (its
/// shadow copy), so that every rank applies the same changes, in the same order, from the same bytes, with no file system
/// shared between the machines. The other ranks write the files into a folder of their own run
/// (<see cref="ReceivedDirectory"/>) and load them from there.
/// </summary>
/// <remarks>
/// <see cref="Exchange"/> is a collective that every rank calls at every boundary, whether or not anything changed (an
/// empty list is a few bytes): a rank that skipped it would leave the others waiting.
/// </remarks>
internal sealed class PluginChangeExchange
{
    private const byte Gone = 0, Files = 1, CopyFailed = 2;
    private readonly IProcessGroup _group;

    /// <summary>Creates the exchange.</summary>
    /// <param name="group">The processes; with one, <see cref="Exchange"/> returns its argument.</param>
    /// <param name="receivedDirectory">Where a rank other than 0 writes the plugins it receives (made on first use).</param>
    public PluginChangeExchange(IProcessGroup group, string receivedDirectory)
    {
        _group = group;
        ReceivedDirectory = receivedDirectory;
    }

    /// <summary>Where a rank other than 0 writes the plugins it receives: its plugins folder.</summary>
    public string ReceivedDirectory { get; }

    /// <summary>
    /// Rank 0's changes, on every rank. A collective. On rank 0, <paramref name="changes"/> is sent and returned; on the
    /// others it is ignored, each received version is written into <see cref="ReceivedDirectory"/> and prepared from
    /// there by <paramref name="prepare"/>.
    /// </summary>
    /// <param name="changes">Rank 0's changes, prepared from its plugins folder, in the order to apply them.</param>
    /// <param name="prepare">On the other ranks: prepares a received plugin from <see cref="ReceivedDirectory"/>.</param>
    /// <returns>The changes to apply on this rank: the same plugins, in the same order, as on rank 0.</returns>
    public IReadOnlyList<PreparedChange> Exchange(IReadOnlyList<PreparedChange> changes, Func<PluginCandidate, PluginPreparation> prepare)
    {
        if (_group.Size == 1)
        {
            return changes;
        }
        var payload = _group.BroadcastBytes(_group.IsRoot ? Serialize(changes) : null);
        return _group.IsRoot ? changes : Receive(payload, prepare);
    }

    private static byte[] Serialize(IReadOnlyList<PreparedChange> changes)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream))
        {
            writer.Write(changes.Count);
            foreach (var change in changes)
            {
                writer.Write(change.Name);
                var preparation = change.Preparation;
                if (preparation is null)
                {
                    writer.Write(Gone);
                }
                else if (preparation.Copy is not { } copy)
                {
                    writer.Write(CopyFailed);
                    writer.Write(preparation.CopyProblem ?? "its files could not be copied");
                }
                else
                {
                    // The shadow copy: exactly the files rank 0 loaded, whatever happened in the folder since.
                    writer.Write(Files);
                    writer.Write(Path.GetFileName(copy.AssemblyPath));
                    var files = Directory.GetFiles(copy.Directory, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
                    writer.Write(files.Count);
                    foreach (var file in files)
                    {
                        writer.Write(Path.GetRelativePath(copy.Directory, file).Replace(Path.DirectorySeparatorChar, '/'));
                        var bytes = File.ReadAllBytes(file);
                        writer.Write(bytes.Length);
                        writer.Write(bytes);
                    }
                }
            }
        }
        return stream.ToArray();
    }

    private List<PreparedChange> Receive(byte[] payload, Func<PluginCandidate, PluginPreparation> prepare)
    {
        using var reader = new BinaryReader(new MemoryStream(payload));
        var count = reader.ReadInt32();
        var received = new List<PreparedChange>(count);
        for (var i = 0; i < count; i++)
        {
            var name = reader.ReadString();
            var folder = Path.Combine(ReceivedDirectory, name);
            var kind = reader.ReadByte();
            switch (kind)
            {
                case Gone:
                    Clear(folder);
                    received.Add(new PreparedChange(name, null));
                    break;
                case CopyFailed:
                    var problem = reader.ReadString();
                    received.Add(new PreparedChange(name, new PluginPreparation
                    {
                        Candidate = new PluginCandidate(name, folder, Path.Combine(folder, name + ".dll")),
                        CopyProblem = problem,
                    }));
                    break;
                case Files:
                    var assembly = reader.ReadString();
                    Clear(folder);
                    var files = reader.ReadInt32();
                    for (var f = 0; f < files; f++)
                    {
                        var relative = reader.ReadString();
                        var path = Path.GetFullPath(Path.Combine(folder, relative.Replace('/', Path.DirectorySeparatorChar)));
                        if (!path.StartsWith(Path.GetFullPath(folder) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                        {
                            throw new InvalidDataException($"Plugin '{name}' from rank 0 names a file outside its folder: '{relative}'.");
                        }
                        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                        File.WriteAllBytes(path, reader.ReadBytes(reader.ReadInt32()));
                    }
                    received.Add(new PreparedChange(name, prepare(new PluginCandidate(name, folder, Path.Combine(folder, assembly)))));
                    break;
                default:
                    throw new InvalidDataException($"Unknown plugin change kind {kind} from rank 0: every rank must run the same mtlhost build.");
            }
        }
        return received;
    }

    // The version before is loaded from a shadow copy of its own, so its received files can go.
    private static void Clear(string folder)
    {
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
