// The build task behind the native-library fix-up (see docs/native-library.md): marks chosen
// version needs of ELF shared libraries weak in build and publish output copies, so that TorchSharp's
// libLibTorchSharp.so loads on systems whose libstdc++ lacks GLIBCXX_3.4.32 (Debian 12, Ubuntu 22.04).
//
// Why one file: Directory.Build.targets hands this file, as it is, to MSBuild's RoslynCodeTaskFactory
// (<Code Type="Class" Source="...">), which compiles exactly one file, against netstandard 2.0 reference
// assemblies, with no implicit usings. MtlHost.Build.csproj compiles the same file for the unit tests. So:
// netstandard 2.0 APIs only (no Span, no FileSystemInfo.LinkTarget, no File.Move overwrite overload), every
// using written out, nothing from another file.
//
// The types, in the order they run:
//   MtlHostWeakenElfVersionNeeds  the MSBuild task: parameters, the list of files, errors become warnings;
//   ElfVersionNeedPatcher         one file: where not to write, what to weaken, the two-byte write;
//   ElfReader                     ELF64 little-endian parsing: sections, .gnu.version_r, relocations;
//   SystemLibraries               whether this machine's library (e.g. libstdc++.so.6) has a version already;
//   NativeFiles                   realpath(3) and the link count, through libc.

#nullable enable

using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace MtlHost.Build;

/// <summary>
/// Sets VER_FLG_WEAK in the Vernaux entries (<c>.gnu.version_r</c>) of the named versions in the given ELF files,
/// so that the dynamic loader accepts a system library that lacks those versions. Writes only the two bytes of
/// each entry's <c>vna_flags</c>; never writes under a NuGet package folder; never weakens a version that a
/// relocation uses. A file it cannot read or patch is skipped with a warning: the build does not fail.
/// </summary>
public sealed class MtlHostWeakenElfVersionNeeds : Microsoft.Build.Utilities.Task
{
    /// <summary>Prefix of every message the task logs.</summary>
    internal const string Prefix = "MtlHostNativeFixup: ";

    /// <summary>The files to patch (copies in build or publish output). Duplicates are handled once.</summary>
    [Required]
    public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();

    /// <summary>Version names to weaken, separated by ';' or ',' (e.g. <c>GLIBCXX_3.4.32</c>).</summary>
    [Required]
    public string Versions { get; set; } = "";

    /// <summary>
    /// Folders never to write under, separated by ';' (the NuGet package folders). <c>$HOME/.nuget/packages</c>
    /// is always added.
    /// </summary>
    public string? ExcludedRoots { get; set; }

    /// <summary>Weaken even when this machine's library already provides the version (building for an older target).</summary>
    public bool Force { get; set; }

    /// <summary>Give a patched file back its last-write time, so that a copy with SkipUnchangedFiles does not overwrite it.</summary>
    public bool PreserveTimestamp { get; set; }

    /// <summary>The files that were changed, each with metadata <c>WeakenedVersions</c> (';'-separated).</summary>
    [Output]
    public ITaskItem[] PatchedFiles { get; set; } = Array.Empty<ITaskItem>();

    /// <summary>Patches every file; logs a warning, never an error, for a file it cannot handle.</summary>
    /// <returns>True unless something else logged an error.</returns>
    public override bool Execute()
    {
        var patched = new List<ITaskItem>();
        var versions = ParseVersions(Versions);
        if (versions.Count == 0 || Files == null || Files.Length == 0)
        {
            PatchedFiles = patched.ToArray();
            return true;
        }

        var patcher = new ElfVersionNeedPatcher(Log, versions, ExcludedFolders(ExcludedRoots), Force, PreserveTimestamp,
            new SystemLibraries(Log, BuildEngine as IBuildEngine4));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in Files)
        {
            string path;
            try
            {
                path = Path.GetFullPath(item.ItemSpec);
            }
            catch
            {
                continue;
            }
            if (!seen.Add(path))
            {
                continue;
            }
            try
            {
                var weakened = patcher.Patch(path);
                if (weakened != null)
                {
                    var result = new TaskItem(path);
                    result.SetMetadata("WeakenedVersions", string.Join(";", weakened.ToArray()));
                    patched.Add(result);
                }
            }
            catch (Exception ex)
            {
                // The build doesn't fail because of this; the app just won't load on old libstdc++.
                Log.LogWarning(Prefix + "could not patch '{0}': {1}", path, ex.Message);
            }
        }
        PatchedFiles = patched.ToArray();
        return !Log.HasLoggedErrors;
    }

    private static HashSet<string> ParseVersions(string? versions)
    {
        var result = new HashSet<string>(StringComparer.Ordinal);
        foreach (var v in (versions ?? "").Split(new[] { ';', ',' }, StringSplitOptions.RemoveEmptyEntries))
        {
            if (v.Trim().Length > 0)
            {
                result.Add(v.Trim());
            }
        }
        return result;
    }

    // The given folders plus $HOME/.nuget/packages, each resolved (realpath) and ending in '/'.
    private static List<string> ExcludedFolders(string? excludedRoots)
    {
        var roots = new List<string>();
        var candidates = new List<string>((excludedRoots ?? "").Split(';'));
        var home = Environment.GetEnvironmentVariable("HOME");
        if (!string.IsNullOrEmpty(home))
        {
            candidates.Add(Path.Combine(home, ".nuget", "packages"));
        }
        foreach (var r in candidates)
        {
            if (string.IsNullOrWhiteSpace(r))
            {
                continue;
            }
            string full;
            try
            {
                full = NativeFiles.RealPath(r.Trim());
            }
            catch
            {
                continue;
            }
            full = NativeFiles.WithSlash(full);
            if (!roots.Contains(full))
            {
                roots.Add(full);
            }
        }
        return roots;
    }
}

/// <summary>Weakens the configured version needs of one file at a time; see <see cref="MtlHostWeakenElfVersionNeeds"/>.</summary>
internal sealed class ElfVersionNeedPatcher
{
    private const ushort VerFlgWeak = 0x2;

    private readonly TaskLoggingHelper _log;
    private readonly HashSet<string> _versions;
    private readonly List<string> _excludedRoots;
    private readonly bool _force;
    private readonly bool _preserveTimestamp;
    private readonly SystemLibraries _systemLibraries;

    /// <summary>Creates a patcher.</summary>
    /// <param name="log">Where messages and warnings go.</param>
    /// <param name="versions">Version names to weaken.</param>
    /// <param name="excludedRoots">Resolved folders, each ending in '/', never to write under.</param>
    /// <param name="force">Weaken even when the system library provides the version.</param>
    /// <param name="preserveTimestamp">Keep the file's last-write time.</param>
    /// <param name="systemLibraries">Answers whether the system library provides a version.</param>
    public ElfVersionNeedPatcher(TaskLoggingHelper log, HashSet<string> versions, List<string> excludedRoots, bool force,
        bool preserveTimestamp, SystemLibraries systemLibraries)
    {
        _log = log;
        _versions = versions;
        _excludedRoots = excludedRoots;
        _force = force;
        _preserveTimestamp = preserveTimestamp;
        _systemLibraries = systemLibraries;
    }

    /// <summary>Weakens what needs weakening in <paramref name="path"/>.</summary>
    /// <param name="path">A full path.</param>
    /// <returns>The version names it weakened, or null if it left the file as it was.</returns>
    /// <exception cref="Exception">The file could not be read or written; the caller logs a warning.</exception>
    public List<string>? Patch(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        // Refuse anything whose directory (the place we write to) is in a NuGet package folder.
        var dir = Path.GetDirectoryName(path)!;
        var realDir = NativeFiles.WithSlash(NativeFiles.RealPath(dir));
        foreach (var root in _excludedRoots)
        {
            if (NativeFiles.WithSlash(dir).StartsWith(root, StringComparison.Ordinal) || realDir.StartsWith(root, StringComparison.Ordinal))
            {
                _log.LogMessage(MessageImportance.Normal, MtlHostWeakenElfVersionNeeds.Prefix + "refusing to patch '{0}': it is under the NuGet package folder '{1}'.", path, root);
                return null;
            }
        }

        List<VersionNeed>? hits;
        using (var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
        {
            hits = NeedsToWeaken(fs, path);
        }
        if (hits == null || hits.Count == 0)
        {
            return null;
        }

        var copyOnWrite = Write(path, dir, hits);

        var names = new List<string>();
        foreach (var h in hits)
        {
            names.Add(h.Name + " (" + h.NeededFile + ", vna_flags 0x" + h.Flags.ToString("x") + " -> 0x" + (h.Flags | VerFlgWeak).ToString("x") + ")");
        }
        _log.LogMessage(MessageImportance.Normal, MtlHostWeakenElfVersionNeeds.Prefix + "marked version need {0} as WEAK in '{1}'{2}.",
            string.Join(", ", names.ToArray()), path, copyOnWrite ? " (linked file: patched a private copy)" : "");
        return hits.ConvertAll(h => h.Name);
    }

    // The configured needs of the file that are not weak yet, less those the system provides (unless forced) and
    // those a relocation uses. Null if the file is not an ELF file this reader handles.
    private List<VersionNeed>? NeedsToWeaken(Stream fs, string path)
    {
        var hits = ElfReader.FindVersionNeeds(fs, _versions, out var why);
        if (hits == null)
        {
            _log.LogMessage(MessageImportance.Normal, MtlHostWeakenElfVersionNeeds.Prefix + "skipping '{0}': {1}", path, why);
            return null;
        }
        hits.RemoveAll(h => (h.Flags & VerFlgWeak) != 0);
        if (hits.Count == 0)
        {
            _log.LogMessage(MessageImportance.Low, MtlHostWeakenElfVersionNeeds.Prefix + "'{0}' needs no change (already weak or version not needed).", path);
            return hits;
        }

        if (!_force)
        {
            foreach (var h in hits.ToArray())
            {
                if (_systemLibraries.Provides(h.NeededFile, h.Name, out var lib))
                {
                    _log.LogMessage(MessageImportance.Normal, MtlHostWeakenElfVersionNeeds.Prefix + "'{0}' on this system already provides {1}; leaving '{2}' as is.", lib, h.Name, path);
                    hits.Remove(h);
                }
            }
        }
        if (hits.Count == 0)
        {
            return hits;
        }

        // Never weaken a version that a relocation actually uses: that would only move the failure
        // from load time to the first symbol lookup.
        var used = ElfReader.VersionIndicesUsedByRelocations(fs);
        foreach (var h in hits.ToArray())
        {
            if (used == null || used.Contains(h.Other))
            {
                _log.LogWarning(MtlHostWeakenElfVersionNeeds.Prefix + "not weakening {0} ({1}) in '{2}': {3}", h.Name, h.NeededFile, path,
                    used == null ? "could not read the relocation/symbol-version tables" : "a relocation refers to a symbol with this version");
                hits.Remove(h);
            }
        }
        return hits;
    }

    // Sets the weak flag of every hit. Returns whether it patched a private copy (a linked file).
    private bool Write(string path, string dir, List<VersionNeed> hits)
    {
        // If the output file is a symlink or a hard link (CreateSymbolicLinksForCopyLocalIfPossible /
        // CreateHardLinksForCopyLocalIfPossible), it may share its data with the NuGet cache. In that
        // case patch a private copy and rename it over the output path, so the shared data is untouched.
        var isSymlink = (File.GetAttributes(path) & FileAttributes.ReparsePoint) != 0;
        var nlink = isSymlink ? -1 : NativeFiles.LinkCount(path);
        var copyOnWrite = isSymlink || nlink != 1;

        var mtime = File.GetLastWriteTimeUtc(path);
        var target = path;
        if (copyOnWrite)
        {
            target = Path.Combine(dir, "." + Path.GetFileName(path) + ".mtlhost-" + Guid.NewGuid().ToString("N") + ".tmp");
            File.Copy(path, target, false);   // follows a symlink and copies the bytes
        }
        try
        {
            using (var fs = new FileStream(target, FileMode.Open, FileAccess.ReadWrite, FileShare.Read))
            {
                foreach (var h in hits)
                {
                    var newFlags = (ushort)(h.Flags | VerFlgWeak);
                    fs.Position = h.FlagsOffset;
                    var cur = ElfReader.ReadExactly(fs, 2);
                    if (BitConverter.ToUInt16(cur, 0) != h.Flags)
                    {
                        throw new IOException("file changed while being patched");
                    }
                    fs.Position = h.FlagsOffset;
                    fs.Write(new[] { (byte)(newFlags & 0xff), (byte)(newFlags >> 8) }, 0, 2);  // the only bytes written
                }
                fs.Flush(true);
            }
            if (_preserveTimestamp)
            {
                File.SetLastWriteTimeUtc(target, mtime);
            }
            if (copyOnWrite)
            {
                File.Replace(target, path, null);  // rename(2): replaces the link itself, not what it points to
                target = path;
            }
        }
        finally
        {
            if (copyOnWrite && target != path)
            {
                try
                {
                    File.Delete(target);
                }
                catch
                {
                }
            }
        }
        return copyOnWrite;
    }
}

/// <summary>One Vernaux entry (in <c>.gnu.version_r</c>) whose version name was asked for.</summary>
internal sealed class VersionNeed
{
    /// <summary>File offset of <c>vna_flags</c>.</summary>
    public long FlagsOffset { get; set; }

    /// <summary><c>vna_flags</c> as read.</summary>
    public ushort Flags { get; set; }

    /// <summary><c>vna_other</c>: the version index that <c>.gnu.version</c> uses for this version.</summary>
    public ushort Other { get; set; }

    /// <summary>The version name, e.g. GLIBCXX_3.4.32.</summary>
    public string Name { get; set; } = "";

    /// <summary>The Verneed's <c>vn_file</c>, e.g. libstdc++.so.6 (null if unreadable).</summary>
    public string? NeededFile { get; set; }
}

/// <summary>One section header.</summary>
internal sealed class ElfSection
{
    /// <summary>Index in the section header table.</summary>
    public int Index { get; set; }

    /// <summary><c>sh_type</c>.</summary>
    public uint Type { get; set; }

    /// <summary><c>sh_offset</c>.</summary>
    public long Offset { get; set; }

    /// <summary><c>sh_size</c>.</summary>
    public long Size { get; set; }

    /// <summary><c>sh_link</c>.</summary>
    public uint Link { get; set; }

    /// <summary><c>sh_info</c>.</summary>
    public uint Info { get; set; }

    /// <summary><c>sh_entsize</c>.</summary>
    public long EntSize { get; set; }
}

/// <summary>Reads what the patcher needs from an ELF64 little-endian file; refuses anything else.</summary>
internal static class ElfReader
{
    private const uint ShtRela = 4;
    private const uint ShtRel = 9;
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const uint ShtGnuVersym = 0x6fffffff;

    /// <summary>The section headers, or null (with the reason in <paramref name="why"/>) if the file can't be handled.</summary>
    /// <param name="fs">The file, seekable.</param>
    /// <param name="why">Why the file can't be handled.</param>
    /// <returns>The sections, in table order.</returns>
    public static List<ElfSection>? ReadSections(Stream fs, out string? why)
    {
        why = null;
        var len = fs.Length;
        if (len < 64)
        {
            why = "file too small to be ELF";
            return null;
        }
        fs.Position = 0;
        var eh = ReadExactly(fs, 64);
        if (eh[0] != 0x7f || eh[1] != (byte)'E' || eh[2] != (byte)'L' || eh[3] != (byte)'F')
        {
            why = "not an ELF file";
            return null;
        }
        if (eh[4] != 2)
        {
            why = "not ELF64 (EI_CLASS=" + eh[4] + ")";
            return null;
        }
        if (eh[5] != 1)
        {
            why = "not little-endian (EI_DATA=" + eh[5] + ")";
            return null;
        }
        var shoff = (long)BitConverter.ToUInt64(eh, 0x28);
        int shentsize = BitConverter.ToUInt16(eh, 0x3A);
        long shnum = BitConverter.ToUInt16(eh, 0x3C);
        if (shoff == 0)
        {
            why = "no section headers";
            return null;
        }
        if (shentsize < 64)
        {
            why = "bad e_shentsize " + shentsize;
            return null;
        }
        if (shoff < 0 || shoff + shentsize > len)
        {
            why = "section header table outside the file";
            return null;
        }
        if (shnum == 0)
        {
            // More than 0xff00 sections: the real count is in sh_size of section 0.
            fs.Position = shoff;
            shnum = (long)BitConverter.ToUInt64(ReadExactly(fs, 64), 32);
        }
        if (shnum <= 0 || shnum > 1000000 || shoff + shnum * shentsize > len)
        {
            why = "bad section header table";
            return null;
        }
        fs.Position = shoff;
        var table = ReadExactly(fs, (int)(shnum * shentsize));
        var list = new List<ElfSection>((int)shnum);
        for (var i = 0; i < shnum; i++)
        {
            var o = i * shentsize;
            list.Add(new ElfSection
            {
                Index = i,
                Type = BitConverter.ToUInt32(table, o + 4),
                Offset = (long)BitConverter.ToUInt64(table, o + 24),
                Size = (long)BitConverter.ToUInt64(table, o + 32),
                Link = BitConverter.ToUInt32(table, o + 40),
                Info = BitConverter.ToUInt32(table, o + 44),
                EntSize = (long)BitConverter.ToUInt64(table, o + 56),
            });
        }
        return list;
    }

    /// <summary>The bytes of one section.</summary>
    /// <param name="fs">The file.</param>
    /// <param name="s">The section.</param>
    /// <returns>Its contents.</returns>
    /// <exception cref="InvalidDataException">The section lies outside the file.</exception>
    public static byte[] ReadSection(Stream fs, ElfSection s)
    {
        if (s.Offset < 0 || s.Size < 0 || s.Size > int.MaxValue || s.Offset + s.Size > fs.Length)
        {
            throw new InvalidDataException("section " + s.Index + " lies outside the file");
        }
        fs.Position = s.Offset;
        return ReadExactly(fs, (int)s.Size);
    }

    /// <summary>
    /// The Vernaux entries whose name is in <paramref name="versions"/> (possibly none; also none when the file has no
    /// <c>.gnu.version_r</c>), or null (with the reason in <paramref name="why"/>) if the file can't be handled.
    /// </summary>
    /// <param name="fs">The file.</param>
    /// <param name="versions">Version names to look for.</param>
    /// <param name="why">Why the file can't be handled.</param>
    /// <returns>The matching entries.</returns>
    public static List<VersionNeed>? FindVersionNeeds(Stream fs, ICollection<string> versions, out string? why)
    {
        var sections = ReadSections(fs, out why);
        if (sections == null)
        {
            return null;
        }
        var hits = new List<VersionNeed>();
        var vr = sections.Find(s => s.Type == ShtGnuVerneed);
        if (vr == null)
        {
            return hits;   // no version needs at all: nothing to do
        }
        if (vr.Link == 0 || vr.Link >= sections.Count)
        {
            why = ".gnu.version_r has a bad sh_link";
            return null;
        }
        var data = ReadSection(fs, vr);
        var strtab = ReadSection(fs, sections[(int)vr.Link]);

        long vnOff = 0;
        // sh_info is the number of Verneed entries; also stop on any loop or out-of-range offset.
        var count = vr.Info == 0 ? long.MaxValue : vr.Info;
        for (long n = 0; n < count; n++)
        {
            if (vnOff < 0 || vnOff + 16 > data.Length)
            {
                why = "Verneed entry outside .gnu.version_r";
                return null;
            }
            var vn = (int)vnOff;
            var vnVersion = BitConverter.ToUInt16(data, vn);
            var vnCnt = BitConverter.ToUInt16(data, vn + 2);
            var vnFile = BitConverter.ToUInt32(data, vn + 4);
            var vnAux = BitConverter.ToUInt32(data, vn + 8);
            var vnNext = BitConverter.ToUInt32(data, vn + 12);
            if (vnVersion != 1)
            {
                why = "unknown vn_version " + vnVersion;
                return null;
            }
            var file = CString(strtab, vnFile);

            var auxOff = vnOff + vnAux;
            for (var a = 0; a < vnCnt; a++)
            {
                if (auxOff < 0 || auxOff + 16 > data.Length)
                {
                    why = "Vernaux entry outside .gnu.version_r";
                    return null;
                }
                var ax = (int)auxOff;
                var vnaHash = BitConverter.ToUInt32(data, ax);
                var vnaFlags = BitConverter.ToUInt16(data, ax + 4);
                var vnaOther = BitConverter.ToUInt16(data, ax + 6);
                var vnaName = BitConverter.ToUInt32(data, ax + 8);
                var vnaNext = BitConverter.ToUInt32(data, ax + 12);
                var name = CString(strtab, vnaName);
                if (name != null && versions.Contains(name))
                {
                    if (vnaHash != ElfHash(name))
                    {
                        why = "vna_hash of " + name + " does not match its name";
                        return null;
                    }
                    hits.Add(new VersionNeed { FlagsOffset = vr.Offset + ax + 4, Flags = vnaFlags, Other = vnaOther, Name = name, NeededFile = file });
                }
                if (vnaNext == 0)
                {
                    break;
                }
                auxOff += vnaNext;
            }
            if (vnNext == 0)
            {
                break;
            }
            vnOff += vnNext;
        }
        return hits;
    }

    /// <summary>
    /// Version indices (from <c>.gnu.version</c>) of every dynamic symbol referenced by a REL/RELA relocation against
    /// the dynamic symbol table; null if the tables can't be read.
    /// </summary>
    /// <param name="fs">The file.</param>
    /// <returns>The indices, without the hidden bit.</returns>
    public static HashSet<ushort>? VersionIndicesUsedByRelocations(Stream fs)
    {
        var sections = ReadSections(fs, out _);
        if (sections == null)
        {
            return null;
        }
        var result = new HashSet<ushort>();
        var versym = sections.Find(s => s.Type == ShtGnuVersym);
        if (versym == null)
        {
            return result;
        }
        var vs = ReadSection(fs, versym);
        var dynsymIndex = versym.Link;
        foreach (var s in sections)
        {
            if ((s.Type != ShtRela && s.Type != ShtRel) || s.Link != dynsymIndex || s.Size == 0)
            {
                continue;
            }
            var ent = s.EntSize != 0 ? s.EntSize : (s.Type == ShtRela ? 24 : 16);
            if (ent < 16)
            {
                return null;
            }
            var rel = ReadSection(fs, s);
            for (long o = 0; o + ent <= rel.Length; o += ent)
            {
                var info = BitConverter.ToUInt64(rel, (int)o + 8);
                var sym = (long)(info >> 32);
                if (sym == 0)
                {
                    continue;
                }
                if (sym * 2 + 2 > vs.Length)
                {
                    return null;
                }
                result.Add((ushort)(BitConverter.ToUInt16(vs, (int)(sym * 2)) & 0x7fff));
            }
        }
        return result;
    }

    /// <summary>The SysV ELF hash of a name, as <c>vna_hash</c> holds it.</summary>
    /// <param name="name">The name.</param>
    /// <returns>The hash.</returns>
    public static uint ElfHash(string name)
    {
        uint h = 0;
        foreach (var c in Encoding.UTF8.GetBytes(name))
        {
            h = (h << 4) + c;
            var g = h & 0xf0000000;
            if (g != 0)
            {
                h ^= g >> 24;
            }
            h &= ~g;
        }
        return h;
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes.</summary>
    /// <param name="s">The stream.</param>
    /// <param name="count">How many bytes.</param>
    /// <returns>The bytes.</returns>
    /// <exception cref="EndOfStreamException">The stream ended first.</exception>
    public static byte[] ReadExactly(Stream s, int count)
    {
        var buf = new byte[count];
        var done = 0;
        while (done < count)
        {
            var n = s.Read(buf, done, count - done);
            if (n <= 0)
            {
                throw new EndOfStreamException();
            }
            done += n;
        }
        return buf;
    }

    private static string? CString(byte[] strtab, uint off)
    {
        if (off >= strtab.Length)
        {
            return null;
        }
        var end = Array.IndexOf(strtab, (byte)0, (int)off);
        if (end < 0)
        {
            return null;
        }
        return Encoding.UTF8.GetString(strtab, (int)off, end - (int)off);
    }
}

/// <summary>Does this machine's library (whatever <c>vn_file</c> names, e.g. libstdc++.so.6) already have a version?</summary>
internal sealed class SystemLibraries
{
    private readonly TaskLoggingHelper _log;
    private readonly IBuildEngine4? _engine;

    /// <summary>Creates the probe.</summary>
    /// <param name="log">Where messages go.</param>
    /// <param name="engine">Caches answers for the rest of the build, if given.</param>
    public SystemLibraries(TaskLoggingHelper log, IBuildEngine4? engine)
    {
        _log = log;
        _engine = engine;
    }

    /// <summary>Whether the system's <paramref name="soname"/> contains the version name <paramref name="version"/>.</summary>
    /// <param name="soname">The library, e.g. libstdc++.so.6.</param>
    /// <param name="version">The version name.</param>
    /// <param name="libPath">The library file looked at, or null if none was found (then the answer is false).</param>
    /// <returns>Whether it has the version.</returns>
    public bool Provides(string? soname, string version, out string? libPath)
    {
        libPath = Find(soname);
        if (libPath == null)
        {
            _log.LogMessage(MessageImportance.Low, MtlHostWeakenElfVersionNeeds.Prefix + "could not find the system '{0}'; assuming it lacks {1}.", soname, version);
            return false;
        }
        var info = new FileInfo(libPath);
        var key = "MtlHostNativeFixup|" + libPath + "|" + info.Length + "|" + info.LastWriteTimeUtc.Ticks + "|" + version;
        if (_engine != null)
        {
            var cached = _engine.GetRegisteredTaskObject(key, RegisteredTaskObjectLifetime.Build);
            if (cached is bool b)
            {
                return b;
            }
        }
        var found = ContainsBytes(File.ReadAllBytes(libPath), Encoding.ASCII.GetBytes(version + "\0"));
        _engine?.RegisterTaskObject(key, found, RegisteredTaskObjectLifetime.Build, false);
        return found;
    }

    private static string? Find(string? soname)
    {
        if (string.IsNullOrEmpty(soname))
        {
            return null;
        }
        // 1) The copy the dynamic loader actually picked for this process (dotnet itself links libstdc++).
        try
        {
            foreach (var line in File.ReadAllLines("/proc/self/maps"))
            {
                var slash = line.IndexOf('/');
                if (slash < 0)
                {
                    continue;
                }
                var p = line.Substring(slash).Trim();
                var f = Path.GetFileName(p);
                if ((f == soname || f.StartsWith(soname + ".", StringComparison.Ordinal)) && File.Exists(p))
                {
                    return NativeFiles.RealPath(p);
                }
            }
        }
        catch
        {
        }
        // 2) Usual library directories for this architecture.
        string? triplet;
        switch (RuntimeInformation.OSArchitecture)
        {
            case Architecture.X64: triplet = "x86_64-linux-gnu"; break;
            case Architecture.Arm64: triplet = "aarch64-linux-gnu"; break;
            case Architecture.Arm: triplet = "arm-linux-gnueabihf"; break;
            case Architecture.X86: triplet = "i386-linux-gnu"; break;
            default: triplet = null; break;
        }
        var dirs = new List<string>();
        if (triplet != null)
        {
            dirs.Add("/usr/lib/" + triplet);
            dirs.Add("/lib/" + triplet);
        }
        dirs.AddRange(new[] { "/usr/lib64", "/lib64", "/usr/lib", "/lib", "/usr/local/lib64", "/usr/local/lib" });
        foreach (var d in dirs)
        {
            var p = Path.Combine(d, soname);
            if (File.Exists(p))
            {
                return NativeFiles.RealPath(p);
            }
        }
        return null;
    }

    private static bool ContainsBytes(byte[] hay, byte[] needle)
    {
        var last = hay.Length - needle.Length;
        var i = 0;
        while (i <= last)
        {
            i = Array.IndexOf(hay, needle[0], i, last - i + 1);
            if (i < 0)
            {
                return false;
            }
            var k = 1;
            while (k < needle.Length && hay[i + k] == needle[k])
            {
                k++;
            }
            if (k == needle.Length)
            {
                return true;
            }
            i++;
        }
        return false;
    }
}

/// <summary>Small libc helpers, with managed fallbacks.</summary>
internal static class NativeFiles
{
    /// <summary>The canonical path (symlinks resolved); the full path, without a trailing '/', if realpath(3) fails.</summary>
    /// <param name="path">A path.</param>
    /// <returns>The resolved path.</returns>
    public static string RealPath(string path)
    {
        var full = Path.GetFullPath(path);
        try
        {
            var p = NativeRealPath(full, IntPtr.Zero);
            if (p != IntPtr.Zero)
            {
                try
                {
                    return Marshal.PtrToStringAnsi(p)!;
                }
                finally
                {
                    NativeFree(p);
                }
            }
        }
        catch (Exception)
        {
        }
        return full.Length > 1 ? full.TrimEnd('/') : full;
    }

    /// <summary>st_nlink of the file itself (not a symlink's target), via statx(2); -1 if unknown.</summary>
    /// <param name="path">A path.</param>
    /// <returns>The link count.</returns>
    public static long LinkCount(string path)
    {
        try
        {
            // statx has the same struct layout on every architecture.
            var buf = new byte[256];
            const int AtFdcwd = -100, AtSymlinkNofollow = 0x100;
            const uint StatxNlink = 0x4;
            if (NativeStatx(AtFdcwd, path, AtSymlinkNofollow, StatxNlink, buf) != 0)
            {
                return -1;
            }
            if ((BitConverter.ToUInt32(buf, 0) & StatxNlink) == 0)
            {
                return -1;
            }
            return BitConverter.ToUInt32(buf, 16);
        }
        catch (Exception)
        {
            return -1;
        }
    }

    /// <summary>The path with a trailing '/'.</summary>
    /// <param name="p">A path.</param>
    /// <returns>The path ending in '/'.</returns>
    public static string WithSlash(string p) => p.EndsWith("/", StringComparison.Ordinal) ? p : p + "/";

    [DllImport("libc", EntryPoint = "realpath", SetLastError = true)]
    private static extern IntPtr NativeRealPath(string path, IntPtr resolved);

    [DllImport("libc", EntryPoint = "free")]
    private static extern void NativeFree(IntPtr p);

    [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
    private static extern int NativeStatx(int dirfd, string path, int flags, uint mask, byte[] buf);
}
