using System.Diagnostics;
using MtlHost.Observers;
using MtlHost.Tests.Infrastructure;
using Shouldly;
using Xunit;

namespace MtlHost.Tests.Observers;

/// <summary>The progress bar's line, and that a real terminal gets a bar while redirected output gets log lines.</summary>
public sealed class ConsoleProgressTests : IDisposable
{
    private readonly TemporaryDirectory _plugins = new();
    private readonly TemporaryDirectory _run = new();

    /// <inheritdoc />
    public void Dispose()
    {
        _plugins.Dispose();
        _run.Dispose();
    }

    [Fact]
    public void The_line_shows_steps_percentage_rate_time_left_and_each_tasks_loss()
    {
        var line = ConsoleProgress.Render(120, 300, 2.0, new SortedDictionary<string, double> { ["spam"] = 0.41234, ["wordclass"] = 1.02 }, 200);

        line.ShouldBe("[##########..............] 120/300  40%  2.00 steps/s  ETA 1:30  spam 0.412  wordclass 1.020");
    }

    [Fact]
    public void A_run_without_a_step_budget_has_no_bar_or_time_left()
    {
        var line = ConsoleProgress.Render(5000, null, 4.0, new Dictionary<string, double> { ["spam"] = 0.5 }, 200);

        line.ShouldBe("step 5000  4.00 steps/s  spam 0.500");
    }

    [Fact]
    public void A_narrow_terminal_gets_the_line_cut_to_its_width()
    {
        var line = ConsoleProgress.Render(1, 10, 1.0, new Dictionary<string, double> { ["a-long-task-name"] = 0.5 }, 40);

        line.Length.ShouldBe(40);
        line.ShouldEndWith("…");
    }

    [Fact]
    public void Redirected_output_gets_plain_step_lines_and_no_bar()
    {
        _plugins.CopyPlugin(Path.Combine(RepositoryPaths.SamplePlugins, "Spam"));
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "mtlhost.dll"), "train", "--plugins", _plugins.Path,
            "--encoder", "tiny", "--steps", "4", "--max-length", "32", "--out", _run.Combine("out")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["TERM"] = "xterm";
        start.Environment["MTLHOST_Training__LogEvery"] = "2";

        var (exitCode, output, error) = RunToEnd(start);

        exitCode.ShouldBe(0, output + error);
        error.ShouldContain("step 2/4");
        error.ShouldContain("step 4/4");
        error.ShouldNotContain("\u001b[K");
    }

    [Fact]
    public void A_terminal_gets_a_bar_that_redraws_in_place_and_ends_at_the_budget()
    {
        // script(1) gives the real program a pseudo-terminal, as a person's shell would.
        var host = Path.Combine(AppContext.BaseDirectory, "mtlhost.dll");
        _plugins.CopyPlugin(Path.Combine(RepositoryPaths.SamplePlugins, "Spam"));
        var command = $"dotnet '{host}' train --plugins '{_plugins.Path}' --encoder tiny --steps 30 --max-length 32 --out '{_run.Combine("out")}'";
        var start = new ProcessStartInfo("script", ["-qec", command, "/dev/null"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["TERM"] = "xterm";

        var (exitCode, output, error) = RunToEnd(start);

        exitCode.ShouldBe(0, output + error);
        output.ShouldContain("\r\u001b[K[");
        output.ShouldContain("30/30 100%");
        output.ShouldContain("spam ");
        // The bar replaces the periodic step lines.
        output.ShouldNotContain("step 30/30");
    }

    private static (int ExitCode, string Output, string Error) RunToEnd(ProcessStartInfo start)
    {
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{start.FileName} {string.Join(' ', start.ArgumentList)} did not finish in 3 minutes.");
        }
        return (process.ExitCode, output, error.Result);
    }
}
