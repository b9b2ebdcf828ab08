using MtlHost.Abstractions;
using MtlHost.Core.Training;
using MtlHost.Tests.Infrastructure;
using Shouldly;
using Xunit;
using static TorchSharp.torch;

namespace MtlHost.Tests.Training;

/// <summary>
/// The roster on its own: tasks in id order, a head's optimizer that comes and goes with its task, and the trainer told
/// of every task that joins and of every change.
/// </summary>
public sealed class TaskRosterTests : IDisposable
{
    private readonly TemporaryDirectory _plugin = new();
    private readonly TrainingOptions _options = new() { Steps = 10, BatchSize = 2, LogEvery = 0, Seed = 5 };
    private readonly nn.Module _encoder = nn.Linear(2, 2);
    private readonly TrainingOptimizers _optimizers;
    private readonly List<string> _joined = [];
    private int _changes;

    public TaskRosterTests() => _optimizers = new TrainingOptimizers(_encoder, _options, 1e-3);

    public void Dispose()
    {
        _optimizers.Dispose();
        _encoder.Dispose();
        _plugin.Dispose();
    }

    [Fact]
    public void The_first_tasks_are_kept_in_id_order_each_with_a_head_optimizer_and_found_by_id()
    {
        using var zebra = Prepare("zebra");
        using var ant = Prepare("ant");
        var roster = Roster(zebra, ant);

        roster.Tasks.Select(t => t.Id).ShouldBe(["ant", "zebra"]);
        roster.Find("zebra").ShouldBeSameAs(zebra);
        roster.Find("yak").ShouldBeNull();
        _optimizers.HeadOptimizer("ant").ShouldNotBeNull();
        _joined.ShouldBeEmpty();
        _changes.ShouldBe(0);
    }

    [Fact]
    public void A_task_added_later_joins_in_id_order_and_a_second_one_with_its_id_is_refused()
    {
        using var first = Prepare("moths");
        var roster = Roster(first);
        using var added = Prepare("ants");

        var report = roster.Add(added);

        report.Kept.ShouldBeEmpty();
        report.Reset.ShouldNotBeEmpty();
        roster.Tasks.Select(t => t.Id).ShouldBe(["ants", "moths"]);
        _joined.ShouldBe(["ants"]);
        _changes.ShouldBe(1);
        using var again = Prepare("ants");
        Should.Throw<InvalidOperationException>(() => roster.Add(again));
    }

    [Fact]
    public void A_detached_task_leaves_with_its_optimizer_and_comes_back_with_the_same_one()
    {
        using var first = Prepare("first");
        using var second = Prepare("second");
        var roster = Roster(first, second);
        var optimizer = _optimizers.HeadOptimizer("second");

        // Not disposed: attached again below, the run's optimizers own its optimizer again.
        var detached = roster.Detach("second");

        detached.Runtime.ShouldBeSameAs(second);
        roster.Tasks.Select(t => t.Id).ShouldBe(["first"]);
        Should.Throw<KeyNotFoundException>(() => _optimizers.HeadOptimizer("second"));
        Should.Throw<KeyNotFoundException>(() => roster.Detach("second"));

        roster.Attach(detached);
        roster.Tasks.Select(t => t.Id).ShouldBe(["first", "second"]);
        _optimizers.HeadOptimizer("second").ShouldBeSameAs(optimizer);
        _changes.ShouldBe(2);
    }

    [Fact]
    public void A_replacement_takes_over_the_old_heads_tensors_and_its_step_count()
    {
        using var old = Prepare("animals");
        var roster = Roster(old);
        old.ContinueStepCount(7);
        using var replacement = Prepare("animals");

        var report = roster.Replace(replacement, out var previous);
        using var detachedOld = previous;

        previous.Runtime.ShouldBeSameAs(old);
        roster.Find("animals").ShouldBeSameAs(replacement);
        report.Kept.ShouldBe(old.Head.state_dict().Keys.Order(StringComparer.Ordinal).ToList(), ignoreOrder: true);
        replacement.StepsTrained.ShouldBe(7);
        Parameters(replacement.Head).ShouldBe(Parameters(old.Head));
        using var missing = Prepare("missing");
        Should.Throw<KeyNotFoundException>(() => roster.Replace(missing, out _));
    }

    private TaskRoster Roster(params TaskRuntime[] tasks) =>
        new(tasks, _optimizers, task => _joined.Add(task.Id), () => _changes++);

    private static float[] Parameters(nn.Module module) =>
        module.parameters().SelectMany(p => p.detach().data<float>().ToArray()).ToArray();

    private TaskRuntime Prepare(string id)
    {
        Directory.CreateDirectory(_plugin.Combine("data", "animals"));
        string[] lines = ["""{"text": "the cat sleeps", "label": "cat"}""", """{"text": "a dog barks", "label": "dog"}"""];
        File.WriteAllLines(_plugin.Combine("data", "animals", "train.jsonl"), lines);
        File.WriteAllLines(_plugin.Combine("data", "animals", "validation.jsonl"), lines);
        return TinyRuntimes.Factory(_options).Create(new Animals(id), new TaskSource("Animals", _plugin.Path, "Animals.dll", new string('0', 64)));
    }

    private sealed class Animals(string id) : SequenceClassificationTask
    {
        public override string Id => id;
        public override IReadOnlyList<string> Labels => ["cat", "dog"];
        protected override string DataDirectory => Path.Combine("data", "animals");
    }
}
