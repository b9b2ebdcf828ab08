using MtlHost.Tests.Evaluation;
using MtlHost.Tests.Infrastructure;
using Shouldly;
using Xunit;

namespace MtlHost.Tests.Cli;

public sealed class CompareCommandTests : IDisposable
{
    private readonly TemporaryDirectory _folder = new();

    // Baselines: cls macro_f1 0.80 (higher better), reg mae 2.0 (lower better).
    // Run "ew": 0.88 and 2.5 -> +10 and -25 -> Δm% -7.5. Run "uw": 0.84 and 1.5 -> +5 and +25 -> +15.
    public CompareCommandTests()
    {
        SummaryFiles.Write(_folder.Combine("base", "single-task", "cls"), 100, 1, SummaryFiles.Task("cls", "macro_f1", true, ("macro_f1", 0.80), ("accuracy", 0.5)));
        SummaryFiles.Write(_folder.Combine("base", "single-task", "reg"), 100, 1, SummaryFiles.Task("reg", "mae", false, ("mae", 2.0), ("mse", 4.0)));
        SummaryFiles.Write(_folder.Combine("ew"), 100, 1,
            SummaryFiles.Task("cls", "macro_f1", true, ("macro_f1", 0.88), ("accuracy", 0.6)), SummaryFiles.Task("reg", "mae", false, ("mae", 2.5), ("mse", 3.0)));
        SummaryFiles.Write(_folder.Combine("uw"), 100, 1,
            SummaryFiles.Task("cls", "macro_f1", true, ("macro_f1", 0.84), ("accuracy", 0.5)), SummaryFiles.Task("reg", "mae", false, ("mae", 1.5), ("mse", 4.0)));
    }

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void The_table_has_a_row_per_task_a_column_per_run_and_a_delta_m_row()
    {
        var run = HostRun.Of("compare", "--baselines", _folder.Combine("base"), _folder.Combine("ew"), _folder.Combine("uw", "summary.json"));

        run.ExitCode.ShouldBe(0, run.Error);
        var lines = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries).ShouldBe(["task", "primary", "better", "baseline", "ew", "uw"]);
        lines[2].Split(' ', StringSplitOptions.RemoveEmptyEntries).ShouldBe(["cls", "macro_f1", "higher", "0.8000", "0.8800", "0.8400"]);
        lines[3].Split(' ', StringSplitOptions.RemoveEmptyEntries).ShouldBe(["reg", "mae", "lower", "2.0000", "2.5000", "1.5000"]);
        lines[4].Split(' ', StringSplitOptions.RemoveEmptyEntries).ShouldBe(["Δm%", "-7.50", "+15.00"]);
    }

    [Fact]
    public void Json_gives_delta_m_and_per_task_contributions_per_run()
    {
        var run = HostRun.Of("compare", "--baselines", _folder.Combine("base"), _folder.Combine("ew"), _folder.Combine("uw"), "--json");

        run.ExitCode.ShouldBe(0, run.Error);
        var json = run.Json;
        json.GetProperty("scope").GetString().ShouldBe("primary");
        var runs = json.GetProperty("runs");
        runs[0].GetProperty("name").GetString().ShouldBe("ew");
        runs[0].GetProperty("deltaM").GetDouble().ShouldBe(-7.5, 1e-9);
        runs[1].GetProperty("deltaM").GetDouble().ShouldBe(15, 1e-9);
        runs[0].GetProperty("tasks")[1].GetProperty("percent").GetDouble().ShouldBe(-25, 1e-9);
        json.GetProperty("tasks")[0].GetProperty("runs").GetProperty("uw").GetDouble().ShouldBe(0.84);
    }

    [Fact]
    public void All_metrics_counts_every_score_with_a_known_direction()
    {
        var run = HostRun.Of("compare", "--baselines", _folder.Combine("base"), _folder.Combine("ew"), "--all-metrics", "--json");

        // cls: macro_f1 +10, accuracy +20 -> 15; reg: mae -25, mse +25 -> 0; Δm% = 7.5.
        run.ExitCode.ShouldBe(0, run.Error);
        run.Json.GetProperty("runs")[0].GetProperty("deltaM").GetDouble().ShouldBe(7.5, 1e-9);
        run.Json.GetProperty("scope").GetString().ShouldBe("all-metrics");
    }

    [Fact]
    public void A_stored_baselines_file_is_read_as_well()
    {
        MtlHost.Evaluation.Baselines.Load(_folder.Combine("base")).Write(_folder.Combine("base", "baselines.json"));

        var run = HostRun.Of("compare", "--baselines", _folder.Combine("base", "baselines.json"), _folder.Combine("ew"), "--json");

        run.ExitCode.ShouldBe(0, run.Error);
        run.Json.GetProperty("runs")[0].GetProperty("deltaM").GetDouble().ShouldBe(-7.5, 1e-9);
    }

    [Fact]
    public void A_task_missing_from_a_run_is_listed_and_left_out()
    {
        SummaryFiles.Write(_folder.Combine("partial"), 100, 1,
            SummaryFiles.Task("cls", "macro_f1", true, ("macro_f1", 0.88)), SummaryFiles.Unevaluated("reg"));

        var run = HostRun.Of("compare", "--baselines", _folder.Combine("base"), _folder.Combine("partial"));

        run.ExitCode.ShouldBe(0, run.Error);
        run.Output.ShouldContain("partial: Δm% over 1 task(s)");
        run.Output.ShouldContain("reg: no scores in the run; left out of Δm%.");
        run.Output.ShouldContain("reg: no validation results in the run");
        run.Output.ShouldContain("+10.00");
    }

    [Fact]
    public void A_missing_run_folder_exits_2_naming_it()
    {
        var missing = _folder.Combine("nope");

        var run = HostRun.Of("compare", "--baselines", _folder.Combine("base"), missing);

        run.ExitCode.ShouldBe(2);
        run.Error.ShouldContain($"'{missing}' does not exist");
        run.Error.ShouldContain("--out folder of 'mtlhost train'");
        run.Output.ShouldBeEmpty();
    }

    [Fact]
    public void A_summary_without_validation_exits_2_naming_it_and_the_fix()
    {
        var path = SummaryFiles.Write(_folder.Combine("broken"), 100, null, SummaryFiles.Unevaluated("cls"));

        var run = HostRun.Of("compare", "--baselines", _folder.Combine("base"), _folder.Combine("broken"));

        run.ExitCode.ShouldBe(2);
        run.Error.ShouldContain(path);
        run.Error.ShouldContain("no validation results");
    }

    [Fact]
    public void A_run_with_no_task_in_common_exits_2()
    {
        var path = SummaryFiles.Write(_folder.Combine("other"), 100, null, SummaryFiles.Task("zzz", "accuracy", true, ("accuracy", 0.5)));

        var run = HostRun.Of("compare", "--baselines", _folder.Combine("base"), _folder.Combine("other"));

        run.ExitCode.ShouldBe(2);
        run.Error.ShouldContain(path);
        run.Error.ShouldContain("no task in common");
    }

    [Theory]
    [InlineData(new[] { "compare", "runs/x" }, "--baselines FILE_OR_RUN_DIR")]
    [InlineData(new[] { "compare", "--baselines", "b" }, "give at least one run folder")]
    [InlineData(new[] { "compare", "--baselines", "/no/such/baselines.json", "runs/x" }, "/no/such/baselines.json")]
    [InlineData(new[] { "train", "runs/x" }, "unexpected argument 'runs/x'")]
    public void Bad_usage_exits_2(string[] args, string expected)
    {
        var run = HostRun.Of(args);

        run.ExitCode.ShouldBe(2);
        run.Error.ShouldContain(expected);
    }
}
