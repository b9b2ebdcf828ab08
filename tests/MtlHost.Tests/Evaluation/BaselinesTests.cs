using MtlHost.Evaluation;
using MtlHost.Tests.Infrastructure;
using Shouldly;
using Xunit;

namespace MtlHost.Tests.Evaluation;

public sealed class BaselinesTests
{
    [Fact]
    public void Baselines_built_from_single_task_summaries_round_trip_through_the_file()
    {
        using var folder = new TemporaryDirectory();
        var cls = SummaryFiles.Write(folder.Combine("single-task", "cls"), 100, 7,
            SummaryFiles.Task("cls", "macro_f1", true, ("macro_f1", 0.8), ("accuracy", 0.5)));
        var reg = SummaryFiles.Write(folder.Combine("single-task", "reg"), 100, null,
            SummaryFiles.Task("reg", "pearson", true, ("pearson", 0.6), ("mae", 2.0)));

        var baselines = Baselines.FromSummaries([cls, reg]);
        var file = folder.Combine("baselines.json");
        baselines.Write(file);
        var read = Baselines.Read(file);

        read.Format.ShouldBe(Baselines.CurrentFormat);
        read.Tasks.Keys.ShouldBe(["cls", "reg"]);
        read.Tasks["cls"].ShouldBe(baselines.Tasks["cls"] with { Scores = read.Tasks["cls"].Scores });
        read.Tasks["cls"].Scores.ShouldBe(baselines.Tasks["cls"].Scores);
        read.Tasks["cls"].Seed.ShouldBe(7);
        read.Tasks["cls"].Steps.ShouldBe(100);
        read.Tasks["cls"].Encoder.ShouldBe("tiny");
        read.Tasks["cls"].Source.ShouldBe(cls);
        read.Tasks["reg"].Seed.ShouldBeNull();
        read.Tasks["reg"].Score.ShouldBe(0.6);
        read.ToTaskMetrics().Select(t => (t.TaskId, t.Primary, t.PrimaryValue)).ShouldBe([("cls", "macro_f1", 0.8), ("reg", "pearson", 0.6)]);
    }

    [Fact]
    public void A_run_folder_with_only_single_task_summaries_loads_as_baselines()
    {
        using var folder = new TemporaryDirectory();
        SummaryFiles.Write(folder.Combine("single-task", "cls"), 100, 7, SummaryFiles.Task("cls", "macro_f1", true, ("macro_f1", 0.8)));

        Baselines.Load(folder.Path).Tasks.Keys.ShouldBe(["cls"]);
    }

    [Fact]
    public void The_same_task_in_two_summaries_is_refused_naming_both_files()
    {
        using var folder = new TemporaryDirectory();
        var a = SummaryFiles.Write(folder.Combine("a"), 100, null, SummaryFiles.Task("cls", "macro_f1", true, ("macro_f1", 0.8)));
        var b = SummaryFiles.Write(folder.Combine("b"), 100, null, SummaryFiles.Task("cls", "macro_f1", true, ("macro_f1", 0.7)));

        var error = Should.Throw<InvalidDataException>(() => Baselines.FromSummaries([a, b]));
        error.Message.ShouldContain(a);
        error.Message.ShouldContain(b);
    }
}
