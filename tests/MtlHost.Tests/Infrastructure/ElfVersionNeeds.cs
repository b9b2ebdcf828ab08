using System.Buffers.Binary;
using System.Text;

namespace MtlHost.Tests.Infrastructure;

/// <summary>Reads the version needs (<c>.gnu.version_r</c>) of an ELF64 shared library, independently of the build's patcher.</summary>
public static class ElfVersionNeeds
{
    /// <summary>One needed version.</summary>
    /// <param name="Name">Version name, e.g. GLIBCXX_3.4.32.</param>
    /// <param name="IsWeak">Whether VER_FLG_WEAK is set.</param>
    public sealed record Need(string Name, bool IsWeak);

    /// <summary>Lists the version needs of <paramref name="path"/>.</summary>
    /// <param name="path">An ELF64 little-endian file.</param>
    /// <returns>The needs.</returns>
    public static IReadOnlyList<Need> Read(string path)
    {
        var elf = File.ReadAllBytes(path);
        var sectionOffset = (long)BinaryPrimitives.ReadUInt64LittleEndian(elf.AsSpan(0x28));
        var sectionSize = BinaryPrimitives.ReadUInt16LittleEndian(elf.AsSpan(0x3A));
        var sectionCount = BinaryPrimitives.ReadUInt16LittleEndian(elf.AsSpan(0x3C));
        var needs = new List<Need>();
        for (var i = 0; i < sectionCount; i++)
        {
            var header = elf.AsSpan((int)(sectionOffset + i * sectionSize));
            if (BinaryPrimitives.ReadUInt32LittleEndian(header[4..]) != 0x6ffffffe)
            {
                continue;
            }
            var offset = (int)BinaryPrimitives.ReadUInt64LittleEndian(header[0x18..]);
            var link = BinaryPrimitives.ReadUInt32LittleEndian(header[0x28..]);
            var strings = (int)BinaryPrimitives.ReadUInt64LittleEndian(elf.AsSpan((int)(sectionOffset + link * sectionSize) + 0x18));
            var entry = offset;
            while (true)
            {
                var count = BinaryPrimitives.ReadUInt16LittleEndian(elf.AsSpan(entry + 2));
                var aux = entry + (int)BinaryPrimitives.ReadUInt32LittleEndian(elf.AsSpan(entry + 8));
                for (var k = 0; k < count; k++)
                {
                    var flags = BinaryPrimitives.ReadUInt16LittleEndian(elf.AsSpan(aux + 4));
                    var name = strings + (int)BinaryPrimitives.ReadUInt32LittleEndian(elf.AsSpan(aux + 8));
                    var end = Array.IndexOf(elf, (byte)0, name);
                    needs.Add(new Need(Encoding.ASCII.GetString(elf, name, end - name), (flags & 0x2) != 0));
                    aux += (int)BinaryPrimitives.ReadUInt32LittleEndian(elf.AsSpan(aux + 12));
                }
                var next = BinaryPrimitives.ReadUInt32LittleEndian(elf.AsSpan(entry + 12));
                if (next == 0)
                {
                    break;
                }
                entry += (int)next;
            }
        }
        return needs;
    }
}
