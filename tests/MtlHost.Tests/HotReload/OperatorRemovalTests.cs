using MtlHost.HotReload;
using MtlHost.Tests.Infrastructure;
using Shouldly;
using Xunit;
using Variant = MtlHost.Tests.Infrastructure.PluginCompiler.Variant;

namespace MtlHost.Tests.HotReload;

/// <summary>A task taken out of a watched run by an operator (the dashboard's DELETE /api/tasks/{id}) and brought back by copying its plugin again.</summary>
public sealed class OperatorRemovalTests : IDisposable
{
    private readonly TemporaryDirectory _plugins = new();

    public void Dispose() => _plugins.Dispose();

    [Fact]
    public void A_removed_task_leaves_the_run_with_its_head_archived_and_comes_back_with_it_when_its_plugin_is_copied_again()
    {
        PluginCompiler.Build(_plugins.Path, "Alpha", new Variant("alpha"));
        var betaDll = PluginCompiler.Build(_plugins.Path, "Beta", new Variant("beta"));
        using var run = new HotReloadHarness(_plugins);
        run.TrainUntil("beta", 4);

        run.Coordinator.RemoveTask("beta", "removed by the test").ShouldBeTrue();
        run.Coordinator.RemoveTask("no-such-task", "removed by the test").ShouldBeFalse();

        run.Trainer.Tasks.Select(t => t.Id).ShouldBe(["alpha"]);
        run.Coordinator.Archive.Heads.ShouldHaveSingleItem().TaskId.ShouldBe("beta");
        var status = run.Coordinator.Status.Of("Beta")!;
        status.State.ShouldBe(PluginRunState.Removed);
        status.Reason!.ShouldContain("removed by the test");
        run.Events(PluginEventKind.Removed).ShouldHaveSingleItem().TaskId.ShouldBe("beta");
        run.Steps(3);

        // The same DLL copied again is a change of the folder: the task rejoins with its archived head.
        File.WriteAllBytes(_plugins.Combine("Beta", "Beta.dll"), betaDll);
        File.SetLastWriteTimeUtc(_plugins.Combine("Beta", "Beta.dll"), DateTime.UtcNow.AddSeconds(5));
        run.ApplyChange();

        run.Trainer.Tasks.Select(t => t.Id).ShouldBe(["alpha", "beta"]);
        var readded = run.Events(PluginEventKind.Added).Last();
        readded.TaskId.ShouldBe("beta");
        readded.Kept!.ShouldBe(["classifier.weight", "classifier.bias"], ignoreOrder: true);
        run.Coordinator.Status.Of("Beta")!.State.ShouldBe(PluginRunState.Training);
        run.Coordinator.Archive.Heads.ShouldBeEmpty();
        run.Steps(3);
    }
}
