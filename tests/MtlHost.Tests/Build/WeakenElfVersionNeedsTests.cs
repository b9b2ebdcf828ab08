using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using MtlHost.Build;
using MtlHost.Tests.Infrastructure;
using Shouldly;
using Xunit;

namespace MtlHost.Tests.Build;

/// <summary>
/// The build task that marks GLIBCXX_3.4.32 weak in TorchSharp's native library (Directory.Build.targets runs it after
/// build and publish), on synthesized ELF files and on a copy of the real library. Checked with the tests' own ELF reader.
/// </summary>
public sealed class WeakenElfVersionNeedsTests : IDisposable
{
    private const string Glibcxx3432 = "GLIBCXX_3.4.32";

    private readonly TemporaryDirectory _folder = new();

    /// <inheritdoc />
    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Marks_the_version_need_weak_by_setting_one_bit_and_nothing_else()
    {
        var original = SyntheticElf.LikeLibTorchSharp();
        var library = Write("libLibTorchSharp.so", original);

        var run = Run(library);

        run.Succeeded.ShouldBeTrue();
        run.Engine.Warnings.ShouldBeEmpty();
        run.Engine.Errors.ShouldBeEmpty();
        var needs = ElfVersionNeeds.Read(library);
        needs.Select(n => n.Name).ShouldBe(["GLIBCXX_3.4", Glibcxx3432, "GLIBC_2.2.5"]);
        needs.Single(n => n.Name == Glibcxx3432).IsWeak.ShouldBeTrue();
        needs.Where(n => n.Name != Glibcxx3432).ShouldAllBe(n => !n.IsWeak);
        // vna_flags of the second Vernaux entry of the first Verneed entry; nothing else changed.
        var flags = (int)SectionOffset(original, SyntheticElf.VersionNeedsSection) + 16 + 16 + 4;
        Differences(original, File.ReadAllBytes(library)).ShouldBe([(flags, (byte)0x00, (byte)0x02)]);
        run.PatchedFiles.Single().ItemSpec.ShouldBe(library);
        run.PatchedFiles.Single().GetMetadata("WeakenedVersions").ShouldBe(Glibcxx3432);
    }

    [Fact]
    public void A_second_run_changes_nothing()
    {
        var library = Write("libLibTorchSharp.so", SyntheticElf.LikeLibTorchSharp());
        Run(library).PatchedFiles.Length.ShouldBe(1);
        var once = File.ReadAllBytes(library);
        var mtime = File.GetLastWriteTimeUtc(library);

        var again = Run(library);

        again.Succeeded.ShouldBeTrue();
        again.PatchedFiles.ShouldBeEmpty();
        again.Engine.Warnings.ShouldBeEmpty();
        File.ReadAllBytes(library).ShouldBe(once);
        File.GetLastWriteTimeUtc(library).ShouldBe(mtime);
    }

    [Fact]
    public void A_library_already_shipped_with_the_need_weak_is_left_as_it_is()
    {
        var original = SyntheticElf.LikeLibTorchSharp(glibcxx3432Flags: 0x2);
        var library = Write("libLibTorchSharp.so", original);

        var run = Run(library);

        run.PatchedFiles.ShouldBeEmpty();
        File.ReadAllBytes(library).ShouldBe(original);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_file_that_does_not_need_the_version_is_left_byte_for_byte(bool hasVersionNeeds)
    {
        var original = hasVersionNeeds
            ? SyntheticElf.Build([new SyntheticElf.Library("libstdc++.so.6", new SyntheticElf.Version("GLIBCXX_3.4", 2))], symbolVersions: [2], relocatedSymbols: [1])
            : SyntheticElf.Build([], symbolVersions: [1], relocatedSymbols: [1]);
        var library = Write("libLibTorchSharp.so", original);
        var mtime = new DateTime(2001, 2, 3, 4, 5, 6, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(library, mtime);

        var run = Run(library);

        run.Succeeded.ShouldBeTrue();
        run.PatchedFiles.ShouldBeEmpty();
        run.Engine.Warnings.ShouldBeEmpty();
        File.ReadAllBytes(library).ShouldBe(original);
        File.GetLastWriteTimeUtc(library).ShouldBe(mtime);
    }

    [Fact]
    public void A_file_that_is_not_ELF_is_skipped_without_an_error()
    {
        var original = System.Text.Encoding.ASCII.GetBytes("INPUT ( libLibTorchSharp.so.1 )\n" + new string('#', 100));
        var file = Write("libLibTorchSharp.so", original);

        var run = Run(file);

        run.Succeeded.ShouldBeTrue();
        run.Engine.Errors.ShouldBeEmpty();
        run.PatchedFiles.ShouldBeEmpty();
        run.Engine.Messages.ShouldContain(m => m.Message!.Contains("skipping", StringComparison.Ordinal) && m.Message.Contains("not an ELF file", StringComparison.Ordinal));
        File.ReadAllBytes(file).ShouldBe(original);
    }

    [Fact]
    public void A_damaged_ELF_file_is_skipped_with_a_warning_not_an_error()
    {
        var original = SyntheticElf.LikeLibTorchSharp();
        SyntheticElf.SetSectionSize(original, SyntheticElf.VersionNeedsSection, 0x1000_0000);
        var library = Write("libLibTorchSharp.so", original);

        var run = Run(library);

        run.Succeeded.ShouldBeTrue();
        run.Engine.Errors.ShouldBeEmpty();
        run.Engine.Warnings.Single().Message!.ShouldContain("could not patch");
        run.PatchedFiles.ShouldBeEmpty();
        File.ReadAllBytes(library).ShouldBe(original);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void The_last_write_time_is_kept_when_asked(bool preserveTimestamp)
    {
        var library = Write("libLibTorchSharp.so", SyntheticElf.LikeLibTorchSharp());
        var mtime = new DateTime(2001, 2, 3, 4, 5, 6, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(library, mtime);

        var run = Run(library, preserveTimestamp: preserveTimestamp);

        run.PatchedFiles.Length.ShouldBe(1);
        (File.GetLastWriteTimeUtc(library) == mtime).ShouldBe(preserveTimestamp);
    }

    [Fact]
    public void A_version_that_a_relocation_uses_stays_strong_with_a_warning()
    {
        var original = SyntheticElf.LikeLibTorchSharp(relocateGlibcxx3432: true);
        var library = Write("libLibTorchSharp.so", original);

        var run = Run(library);

        run.Succeeded.ShouldBeTrue();
        run.Engine.Errors.ShouldBeEmpty();
        run.Engine.Warnings.Single().Message!.ShouldContain("a relocation refers to a symbol with this version");
        run.PatchedFiles.ShouldBeEmpty();
        File.ReadAllBytes(library).ShouldBe(original);
    }

    [Fact]
    public void A_file_under_an_excluded_folder_is_not_touched()
    {
        var original = SyntheticElf.LikeLibTorchSharp();
        var library = Write("packages/torchsharp/libLibTorchSharp.so", original);

        var run = Run(library, excludedRoots: "/nonexistent/folder;" + _folder.Combine("packages"));

        run.PatchedFiles.ShouldBeEmpty();
        run.Engine.Messages.ShouldContain(m => m.Message!.Contains("refusing to patch", StringComparison.Ordinal));
        File.ReadAllBytes(library).ShouldBe(original);
    }

    [Fact]
    public void A_hard_linked_copy_is_patched_as_a_private_copy_and_the_other_name_keeps_the_original()
    {
        var original = SyntheticElf.LikeLibTorchSharp();
        var shared = Write("cache/libLibTorchSharp.so", original);
        var output = _folder.Combine("bin", "libLibTorchSharp.so");
        Directory.CreateDirectory(Path.GetDirectoryName(output)!);
        HardLink(shared, output).ShouldBe(0);

        var run = Run(output);

        run.PatchedFiles.Length.ShouldBe(1);
        run.Engine.Messages.ShouldContain(m => m.Message!.Contains("linked file: patched a private copy", StringComparison.Ordinal));
        ElfVersionNeeds.Read(output).Single(n => n.Name == Glibcxx3432).IsWeak.ShouldBeTrue();
        File.ReadAllBytes(shared).ShouldBe(original);
        Directory.GetFiles(Path.GetDirectoryName(output)!, "*.tmp").ShouldBeEmpty();
    }

    [Fact]
    public void A_symbolic_link_is_replaced_by_a_patched_file_and_its_target_is_untouched()
    {
        var original = SyntheticElf.LikeLibTorchSharp();
        var shared = Write("cache/libLibTorchSharp.so", original);
        var output = _folder.Combine("bin", "libLibTorchSharp.so");
        Directory.CreateDirectory(Path.GetDirectoryName(output)!);
        File.CreateSymbolicLink(output, shared);

        var run = Run(output);

        run.PatchedFiles.Length.ShouldBe(1);
        new FileInfo(output).LinkTarget.ShouldBeNull();
        ElfVersionNeeds.Read(output).Single(n => n.Name == Glibcxx3432).IsWeak.ShouldBeTrue();
        File.ReadAllBytes(shared).ShouldBe(original);
    }

    [Fact]
    public void Without_Force_a_version_this_system_has_is_left_alone()
    {
        // Every libstdc++.so.6 has GLIBCXX_3.4, and dotnet needs libstdc++.
        var original = SyntheticElf.Build([new SyntheticElf.Library("libstdc++.so.6", new SyntheticElf.Version("GLIBCXX_3.4", 2))], symbolVersions: [2], relocatedSymbols: []);
        var library = Write("libLibTorchSharp.so", original);

        var run = Run(library, versions: "GLIBCXX_3.4", force: false);

        run.PatchedFiles.ShouldBeEmpty();
        run.Engine.Messages.ShouldContain(m => m.Message!.Contains("already provides GLIBCXX_3.4;", StringComparison.Ordinal));
        File.ReadAllBytes(library).ShouldBe(original);
    }

    [Fact]
    public void Without_Force_a_version_this_system_lacks_is_weakened()
    {
        var library = Write("libLibTorchSharp.so",
            SyntheticElf.Build([new SyntheticElf.Library("libstdc++.so.6", new SyntheticElf.Version("GLIBCXX_99.0", 2))], symbolVersions: [2], relocatedSymbols: []));

        var run = Run(library, versions: "GLIBCXX_99.0", force: false);

        run.PatchedFiles.Length.ShouldBe(1);
        ElfVersionNeeds.Read(library).Single().IsWeak.ShouldBeTrue();
    }

    [Fact]
    public void A_copy_of_TorchSharps_libLibTorchSharp_gets_GLIBCXX_3_4_32_weak_in_one_byte()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        var cached = NuGetLibLibTorchSharp();
        var cachedHash = SHA256.HashData(File.ReadAllBytes(cached));
        var library = _folder.Combine("libLibTorchSharp.so");
        File.Copy(cached, library);
        var original = File.ReadAllBytes(library);
        ElfVersionNeeds.Read(library).Single(n => n.Name == Glibcxx3432).IsWeak.ShouldBeFalse();

        var run = Run(library);

        run.Engine.Warnings.ShouldBeEmpty();
        run.PatchedFiles.Single().GetMetadata("WeakenedVersions").ShouldBe(Glibcxx3432);
        var needs = ElfVersionNeeds.Read(library);
        needs.Single(n => n.Name == Glibcxx3432).IsWeak.ShouldBeTrue();
        needs.Where(n => n.Name != Glibcxx3432).ShouldAllBe(n => !n.IsWeak);
        var difference = Differences(original, File.ReadAllBytes(library)).ShouldHaveSingleItem();
        (difference.Before, difference.After).ShouldBe(((byte)0x00, (byte)0x02));
        Run(library).PatchedFiles.ShouldBeEmpty();
        SHA256.HashData(File.ReadAllBytes(cached)).ShouldBe(cachedHash);
    }

    [Fact]
    public void In_TorchSharps_libLibTorchSharp_no_relocation_uses_GLIBCXX_3_4_32()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        using var library = File.OpenRead(NuGetLibLibTorchSharp());

        var need = ElfReader.FindVersionNeeds(library, [Glibcxx3432], out var why).ShouldNotBeNull(why).ShouldHaveSingleItem();
        var used = ElfReader.VersionIndicesUsedByRelocations(library).ShouldNotBeNull();

        need.NeededFile.ShouldBe("libstdc++.so.6");
        used.ShouldNotBeEmpty();
        used.ShouldNotContain(need.Other);
    }

    private static Outcome Run(string file, string versions = Glibcxx3432, bool force = true, bool preserveTimestamp = true, string? excludedRoots = null)
    {
        var engine = new RecordingBuildEngine();
        var task = new MtlHostWeakenElfVersionNeeds
        {
            BuildEngine = engine,
            Files = [new TaskItem(file)],
            Versions = versions,
            Force = force,
            PreserveTimestamp = preserveTimestamp,
            ExcludedRoots = excludedRoots,
        };
        var succeeded = task.Execute();
        return new Outcome(succeeded, task.PatchedFiles, engine);
    }

    private string Write(string relativePath, byte[] bytes)
    {
        var path = _folder.Combine(relativePath.Split('/'));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static long SectionOffset(byte[] elf, int section)
    {
        var shoff = (int)BinaryPrimitives.ReadUInt64LittleEndian(elf.AsSpan(0x28));
        return (long)BinaryPrimitives.ReadUInt64LittleEndian(elf.AsSpan(shoff + section * 64 + 24));
    }

    private static List<(int Offset, byte Before, byte After)> Differences(byte[] before, byte[] after)
    {
        after.Length.ShouldBe(before.Length);
        var differences = new List<(int, byte, byte)>();
        for (var i = 0; i < before.Length; i++)
        {
            if (before[i] != after[i])
            {
                differences.Add((i, before[i], after[i]));
            }
        }
        return differences;
    }

    // TorchSharp's own copy, in the NuGet package folder: read here, never written.
    private static string NuGetLibLibTorchSharp()
    {
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var path = Path.Combine(packages, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        File.Exists(path).ShouldBeTrue($"TorchSharp's native library is restored to {path}");
        return path;
    }

    [DllImport("libc", EntryPoint = "link")]
    private static extern int HardLink(string existing, string newPath);

    private sealed record Outcome(bool Succeeded, ITaskItem[] PatchedFiles, RecordingBuildEngine Engine);
}
