using MtlHost.Plugins;
using MtlHost.Tests.Infrastructure;
using Shouldly;
using Xunit;

namespace MtlHost.Tests.HotReload;

public sealed class PluginFolderWatcherTests : IDisposable
{
    private readonly TemporaryDirectory _plugins = new();

    public void Dispose() => _plugins.Dispose();

    [Fact]
    public void A_burst_of_file_writes_into_a_new_plugin_folder_is_reported_once_after_it_settles()
    {
        using var watcher = new PluginFolderWatcher(_plugins.Path, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(30));
        Directory.CreateDirectory(_plugins.Combine("Gamma"));
        for (var i = 0; i < 10; i++)
        {
            File.WriteAllText(_plugins.Combine("Gamma", $"part{i}.bin"), new string('x', 1000 * i));
            Thread.Sleep(20);
        }

        watcher.WaitForChanges(TimeSpan.FromSeconds(10)).ShouldBeTrue();
        Thread.Sleep(500);

        var change = watcher.TakeChanges().ShouldHaveSingleItem();
        change.Name.ShouldBe("Gamma");
        (change.DetectedAt - change.SettledAt).ShouldBeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public void Plugins_present_at_start_are_not_reported_and_a_deleted_one_is()
    {
        Directory.CreateDirectory(_plugins.Combine("Delta"));
        File.WriteAllText(_plugins.Combine("Delta", "Delta.dll"), "x");
        using var watcher = new PluginFolderWatcher(_plugins.Path, TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(200));
        watcher.WaitForChanges(TimeSpan.FromMilliseconds(600)).ShouldBeFalse();

        Directory.Delete(_plugins.Combine("Delta"), recursive: true);

        watcher.WaitForChanges(TimeSpan.FromSeconds(10)).ShouldBeTrue();
        watcher.TakeChanges().ShouldHaveSingleItem().Name.ShouldBe("Delta");
    }
}
