using Microsoft.Extensions.Logging.Abstractions;
using MtlHost.Core.Checkpoints;
using MtlHost.Tests.Infrastructure;
using Shouldly;
using Xunit;

namespace MtlHost.Tests.Checkpoints;

public sealed class CheckpointStoreTests : IDisposable
{
    private readonly TemporaryDirectory _run = new();

    public void Dispose() => _run.Dispose();

    [Fact]
    public void Leftovers_of_interrupted_writes_and_deletions_are_cleaned_and_a_checkpoint_moved_aside_is_put_back()
    {
        var store = new CheckpointStore(_run.Path, keep: 2, NullLogger.Instance);
        // A staging folder (kill during a write), an old checkpoint renamed for deletion (kill during rotation: the
        // benchmark caught a half-deleted step folder before rotation renamed first), and a checkpoint moved aside to
        // be replaced whose replacement never arrived.
        Folder(".step-000000004.tmp-11", "encoder.bin");
        Folder(".step-000000001.deleting-12", "encoder.bin");
        Folder(".step-000000003.old-13", "manifest.json");

        CheckpointStore.RecoverInterruptedWrites(store.Root, NullLogger.Instance);

        Directory.GetDirectories(store.Root).Select(Path.GetFileName).ShouldBe(["step-000000003"]);
        File.Exists(Path.Combine(store.FolderOf(3), "manifest.json")).ShouldBeTrue();
    }

    [Fact]
    public void Rotation_keeps_the_newest_k_and_leaves_no_step_folder_behind_it()
    {
        var store = new CheckpointStore(_run.Path, keep: 2, NullLogger.Instance);

        foreach (var step in new[] { 1, 2, 3, 4 })
        {
            store.Write(step, folder => Folder(Path.GetRelativePath(store.Root, folder), "encoder.bin"));
        }

        Directory.GetDirectories(store.Root).Select(Path.GetFileName).Order(StringComparer.Ordinal).ShouldBe(["step-000000003", "step-000000004"]);
    }

    [Fact]
    public void A_step_folder_without_training_state_or_with_a_short_file_is_not_complete()
    {
        var store = new CheckpointStore(_run.Path, keep: 2, NullLogger.Instance);
        var empty = Folder("step-000000005", "encoder.bin");
        File.WriteAllText(Path.Combine(empty, "manifest.json"), "{ \"step\": 5, \"tru");

        CheckpointStore.Verify(empty, out _).ShouldNotBeNull().ShouldContain("cannot be read");
        store.FindLatest().ShouldBeNull();
    }

    [Fact]
    public void A_write_deletes_what_an_interrupted_deletion_left_but_not_a_staging_folder()
    {
        var store = new CheckpointStore(_run.Path, keep: 2, NullLogger.Instance);
        Folder(".step-000000001.deleting-12", "encoder.bin");
        Folder(".step-000000009.tmp-13", "encoder.bin");

        store.Write(2, folder => Folder(Path.GetRelativePath(store.Root, folder), "encoder.bin"));

        Directory.GetDirectories(store.Root).Select(Path.GetFileName).Order(StringComparer.Ordinal)
            .ShouldBe([".step-000000009.tmp-13", "step-000000002"]);
    }

    [Fact]
    public void A_manifest_of_another_format_is_not_complete_and_the_run_folder_alone_finds_the_latest()
    {
        var foreign = Folder("step-000000005", "encoder.bin");
        var manifest = new CheckpointManifest
        {
            Format = 2, CreatedUtc = "2026-01-01T00:00:00Z", Step = 5, Seed = 1, SdkVersion = "1.0.0",
            Encoder = new CheckpointManifest.EncoderEntry("tiny", "encoder.bin", 8, 1, 1, 16), Tasks = [],
        };
        File.WriteAllText(Path.Combine(foreign, "manifest.json"), System.Text.Json.JsonSerializer.Serialize(manifest, CheckpointWriter.JsonOptions));

        CheckpointStore.Verify(foreign, out _).ShouldNotBeNull().ShouldContain("format 2");
        CheckpointStore.FindLatest(_run.Path, NullLogger.Instance).ShouldBeNull();
    }

    private string Folder(string name, string file)
    {
        var path = Path.Combine(_run.Path, CheckpointStore.FolderName, name);
        Directory.CreateDirectory(path);
        File.WriteAllText(Path.Combine(path, file), "x");
        return path;
    }
}
