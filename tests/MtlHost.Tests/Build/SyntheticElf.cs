using System.Buffers.Binary;
using System.Text;

namespace MtlHost.Tests.Build;

/// <summary>
/// Writes a small ELF64 little-endian shared object with the sections the build's patcher reads: .dynsym, .dynstr,
/// .gnu.version, .gnu.version_r and .rela.dyn (and .shstrtab, so that readelf names them), in one PT_LOAD segment
/// whose addresses are the file offsets. No code.
/// </summary>
public static class SyntheticElf
{
    /// <summary>Section index of .gnu.version_r in what <see cref="Build"/> writes (when it writes one).</summary>
    public const int VersionNeedsSection = 4;

    /// <summary>One needed version.</summary>
    /// <param name="Name">Version name, e.g. GLIBCXX_3.4.32.</param>
    /// <param name="Index">Its version index (<c>vna_other</c>), as .gnu.version refers to it; 2 or more.</param>
    /// <param name="Flags"><c>vna_flags</c> (0x2 is weak).</param>
    public sealed record Version(string Name, ushort Index, ushort Flags = 0);

    /// <summary>One needed library and the versions of it that are needed.</summary>
    /// <param name="File">The library, e.g. libstdc++.so.6.</param>
    /// <param name="Versions">Its needed versions.</param>
    public sealed record Library(string File, params Version[] Versions);

    /// <summary>
    /// Shaped like TorchSharp's libLibTorchSharp.so: libstdc++.so.6 needs GLIBCXX_3.4 (index 2) and GLIBCXX_3.4.32
    /// (index 3), libc.so.6 needs GLIBC_2.2.5 (index 4); symbol 1 has version 2, symbol 2 version 3, symbol 3
    /// version 4; relocations refer to symbols 1 and 3, and to symbol 2 only if <paramref name="relocateGlibcxx3432"/>.
    /// </summary>
    /// <param name="relocateGlibcxx3432">Whether a relocation refers to the GLIBCXX_3.4.32 symbol.</param>
    /// <param name="glibcxx3432Flags"><c>vna_flags</c> of GLIBCXX_3.4.32.</param>
    /// <returns>The file's bytes.</returns>
    public static byte[] LikeLibTorchSharp(bool relocateGlibcxx3432 = false, ushort glibcxx3432Flags = 0) =>
        Build(
            [
                new Library("libstdc++.so.6", new Version("GLIBCXX_3.4", 2), new Version("GLIBCXX_3.4.32", 3, glibcxx3432Flags)),
                new Library("libc.so.6", new Version("GLIBC_2.2.5", 4)),
            ],
            symbolVersions: [2, 3, 4],
            relocatedSymbols: relocateGlibcxx3432 ? [1, 2, 3] : [1, 3]);

    /// <summary>Writes the file.</summary>
    /// <param name="needs">The version needs (none: the file has no .gnu.version_r).</param>
    /// <param name="symbolVersions">Version index of each dynamic symbol after the null symbol (symbol 1, 2, ...).</param>
    /// <param name="relocatedSymbols">Symbol indices that a relocation (R_X86_64_GLOB_DAT) refers to.</param>
    /// <returns>The file's bytes.</returns>
    public static byte[] Build(IReadOnlyList<Library> needs, IReadOnlyList<ushort> symbolVersions, IReadOnlyList<int> relocatedSymbols)
    {
        var dynstr = new StringTable();
        var dynsym = new byte[(symbolVersions.Count + 1) * 24];
        for (var s = 1; s <= symbolVersions.Count; s++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(dynsym.AsSpan(s * 24), dynstr.Add($"symbol{s}"));
            dynsym[s * 24 + 4] = 0x12;  // STB_GLOBAL, STT_FUNC; st_shndx 0: undefined
        }

        var versym = new byte[(symbolVersions.Count + 1) * 2];
        for (var s = 1; s <= symbolVersions.Count; s++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(versym.AsSpan(s * 2), symbolVersions[s - 1]);
        }

        var verneed = new MemoryStream();
        for (var l = 0; l < needs.Count; l++)
        {
            var library = needs[l];
            var entry = new byte[16 + 16 * library.Versions.Length];
            BinaryPrimitives.WriteUInt16LittleEndian(entry.AsSpan(0), 1);                                 // vn_version
            BinaryPrimitives.WriteUInt16LittleEndian(entry.AsSpan(2), (ushort)library.Versions.Length);  // vn_cnt
            BinaryPrimitives.WriteUInt32LittleEndian(entry.AsSpan(4), dynstr.Add(library.File));          // vn_file
            BinaryPrimitives.WriteUInt32LittleEndian(entry.AsSpan(8), 16);                                // vn_aux
            BinaryPrimitives.WriteUInt32LittleEndian(entry.AsSpan(12), l == needs.Count - 1 ? 0u : (uint)entry.Length);  // vn_next
            for (var v = 0; v < library.Versions.Length; v++)
            {
                var version = library.Versions[v];
                var aux = entry.AsSpan(16 + 16 * v);
                BinaryPrimitives.WriteUInt32LittleEndian(aux, ElfHash(version.Name));                     // vna_hash
                BinaryPrimitives.WriteUInt16LittleEndian(aux[4..], version.Flags);                        // vna_flags
                BinaryPrimitives.WriteUInt16LittleEndian(aux[6..], version.Index);                        // vna_other
                BinaryPrimitives.WriteUInt32LittleEndian(aux[8..], dynstr.Add(version.Name));             // vna_name
                BinaryPrimitives.WriteUInt32LittleEndian(aux[12..], v == library.Versions.Length - 1 ? 0u : 16u);  // vna_next
            }
            verneed.Write(entry);
        }

        var rela = new byte[relocatedSymbols.Count * 24];
        for (var r = 0; r < relocatedSymbols.Count; r++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(rela.AsSpan(r * 24), 0x1000 + 8 * (ulong)r);                    // r_offset
            BinaryPrimitives.WriteUInt64LittleEndian(rela.AsSpan(r * 24 + 8), ((ulong)relocatedSymbols[r] << 32) | 6);  // r_info
        }

        var shstrtab = new StringTable();
        var sections = new List<Section>
        {
            new(0, 0, [], 0, 0, 0, 0, 0),
            new(shstrtab.Add(".dynsym"), 11, dynsym, Link: 2, Info: 1, EntSize: 24, Align: 8, Flags: 2),
            new(shstrtab.Add(".dynstr"), 3, [], Link: 0, Info: 0, EntSize: 0, Align: 1, Flags: 2),  // filled in below
            new(shstrtab.Add(".gnu.version"), 0x6fffffff, versym, Link: 1, Info: 0, EntSize: 2, Align: 2, Flags: 2),
        };
        if (needs.Count > 0)
        {
            sections.Add(new(shstrtab.Add(".gnu.version_r"), 0x6ffffffe, verneed.ToArray(), Link: 2, Info: (uint)needs.Count, EntSize: 0, Align: 8, Flags: 2));
        }
        sections.Add(new(shstrtab.Add(".rela.dyn"), 4, rela, Link: 1, Info: 0, EntSize: 24, Align: 8, Flags: 2));
        var shstrndx = sections.Count;
        sections.Add(new(shstrtab.Add(".shstrtab"), 3, [], Link: 0, Info: 0, EntSize: 0, Align: 1, Flags: 0));
        sections[2] = sections[2] with { Data = dynstr.ToArray() };
        sections[shstrndx] = sections[shstrndx] with { Data = shstrtab.ToArray() };

        var file = new MemoryStream();
        file.Write(new byte[64 + 56]);  // ELF header, one program header
        var offsets = new long[sections.Count];
        for (var i = 1; i < sections.Count; i++)
        {
            Pad(file, sections[i].Align);
            offsets[i] = file.Position;
            file.Write(sections[i].Data);
        }
        Pad(file, 8);
        var shoff = file.Position;
        for (var i = 0; i < sections.Count; i++)
        {
            var s = sections[i];
            var header = new byte[64];
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(0), s.Name);
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(4), s.Type);
            BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(8), s.Flags);
            BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(16), s.Flags != 0 ? (ulong)offsets[i] : 0);  // sh_addr
            BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(24), (ulong)offsets[i]);
            BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(32), (ulong)s.Data.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(40), s.Link);
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(44), s.Info);
            BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(48), s.Align);
            BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(56), s.EntSize);
            file.Write(header);
        }

        var elf = file.ToArray();
        var eh = elf.AsSpan();
        eh[0] = 0x7f;
        eh[1] = (byte)'E';
        eh[2] = (byte)'L';
        eh[3] = (byte)'F';
        eh[4] = 2;  // ELFCLASS64
        eh[5] = 1;  // ELFDATA2LSB
        eh[6] = 1;  // EV_CURRENT
        BinaryPrimitives.WriteUInt16LittleEndian(eh[0x10..], 3);     // ET_DYN
        BinaryPrimitives.WriteUInt16LittleEndian(eh[0x12..], 62);    // EM_X86_64
        BinaryPrimitives.WriteUInt32LittleEndian(eh[0x14..], 1);     // e_version
        BinaryPrimitives.WriteUInt64LittleEndian(eh[0x20..], 64);    // e_phoff
        BinaryPrimitives.WriteUInt64LittleEndian(eh[0x28..], (ulong)shoff);
        BinaryPrimitives.WriteUInt16LittleEndian(eh[0x34..], 64);    // e_ehsize
        BinaryPrimitives.WriteUInt16LittleEndian(eh[0x36..], 56);    // e_phentsize
        BinaryPrimitives.WriteUInt16LittleEndian(eh[0x38..], 1);     // e_phnum
        BinaryPrimitives.WriteUInt16LittleEndian(eh[0x3A..], 64);    // e_shentsize
        BinaryPrimitives.WriteUInt16LittleEndian(eh[0x3C..], (ushort)sections.Count);
        BinaryPrimitives.WriteUInt16LittleEndian(eh[0x3E..], (ushort)shstrndx);
        var load = eh[64..];
        BinaryPrimitives.WriteUInt32LittleEndian(load, 1);                     // PT_LOAD
        BinaryPrimitives.WriteUInt32LittleEndian(load[4..], 4);                // PF_R; p_offset, p_vaddr, p_paddr 0
        BinaryPrimitives.WriteUInt64LittleEndian(load[32..], (ulong)shoff);    // p_filesz
        BinaryPrimitives.WriteUInt64LittleEndian(load[40..], (ulong)shoff);    // p_memsz
        BinaryPrimitives.WriteUInt64LittleEndian(load[48..], 0x1000);          // p_align
        return elf;
    }

    /// <summary>Overwrites <c>sh_size</c> of a section, e.g. to make it reach past the end of the file.</summary>
    /// <param name="elf">A file <see cref="Build"/> wrote.</param>
    /// <param name="section">The section's index.</param>
    /// <param name="size">The new size.</param>
    public static void SetSectionSize(byte[] elf, int section, ulong size)
    {
        var shoff = (int)BinaryPrimitives.ReadUInt64LittleEndian(elf.AsSpan(0x28));
        BinaryPrimitives.WriteUInt64LittleEndian(elf.AsSpan(shoff + section * 64 + 32), size);
    }

    /// <summary>The SysV ELF hash, as <c>vna_hash</c> holds it.</summary>
    /// <param name="name">A version name.</param>
    /// <returns>The hash.</returns>
    public static uint ElfHash(string name)
    {
        uint h = 0;
        foreach (var c in Encoding.ASCII.GetBytes(name))
        {
            h = (h << 4) + c;
            var g = h & 0xf0000000;
            h ^= g >> 24;
            h &= ~g;
        }
        return h;
    }

    private static void Pad(MemoryStream file, ulong align)
    {
        while (align > 1 && (ulong)file.Position % align != 0)
        {
            file.WriteByte(0);
        }
    }

    private sealed record Section(uint Name, uint Type, byte[] Data, uint Link, uint Info, ulong EntSize, ulong Align, ulong Flags);

    private sealed class StringTable
    {
        private readonly MemoryStream _bytes = new();
        private readonly Dictionary<string, uint> _offsets = [];

        public StringTable() => _bytes.WriteByte(0);

        public uint Add(string text)
        {
            if (!_offsets.TryGetValue(text, out var offset))
            {
                offset = (uint)_bytes.Position;
                _bytes.Write(Encoding.ASCII.GetBytes(text + "\0"));
                _offsets[text] = offset;
            }
            return offset;
        }

        public byte[] ToArray() => _bytes.ToArray();
    }
}
