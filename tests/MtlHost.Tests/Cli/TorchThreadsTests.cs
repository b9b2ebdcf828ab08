using Microsoft.Extensions.Logging;
using MtlHost.Cli;
using MtlHost.Hosting;
using MtlHost.Tests.Inference;
using MtlHost.Tests.Infrastructure;
using Shouldly;
using TorchSharp;
using Xunit;

namespace MtlHost.Tests.Cli;

/// <summary><c>--threads N</c>: parsing, validation, and that the count reaches torch.</summary>
public sealed class TorchThreadsTests
{
    [Theory]
    [InlineData("train")]
    [InlineData("serve")]
    [InlineData("predict")]
    [InlineData("eval")]
    [InlineData("export")]
    public void The_option_maps_to_Encoder_Threads_wherever_torch_may_run(string verb)
    {
        var command = CommandLine.Parse([verb, "--threads", "3"]);

        command.ToConfiguration().ShouldContain(new KeyValuePair<string, string?>(TorchThreads.ConfigurationKey, "3"));
    }

    [Theory]
    [InlineData("compare")]
    [InlineData("plugins", "list")]
    public void Commands_that_run_no_model_do_not_take_it(params string[] verb)
    {
        Should.Throw<UsageException>(() => CommandLine.Parse([.. verb, "--threads", "1"])).Message.ShouldContain("unknown option --threads");
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("", null)]
    [InlineData("1", 1)]
    [InlineData(" 4 ", 4)]
    public void A_thread_count_is_a_whole_number_of_at_least_one_or_nothing(string? value, int? expected)
    {
        TorchThreads.Parse(value).ShouldBe(expected);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("two")]
    [InlineData("1.5")]
    public void Any_other_value_is_refused_naming_the_option_and_the_setting(string value)
    {
        var message = Should.Throw<UsageException>(() => TorchThreads.Parse(value)).Message;

        message.ShouldContain("--threads (Encoder:Threads) must be a whole number of at least 1");
        message.ShouldContain($"'{value}'");
    }

    [Theory]
    [InlineData(new[] { "train", "--threads", "0", "--encoder", "tiny" }, "--threads (Encoder:Threads) must be a whole number of at least 1, not '0'")]
    [InlineData(new[] { "eval", "--checkpoint", "x", "--threads", "many" }, "--threads must be a whole number, not 'many'")]
    [InlineData(new[] { "predict", "--checkpoint", "x", "--text", "y", "--threads", "-2" }, "--threads must be a whole number, not '-2'")]
    [InlineData(new[] { "export", "--checkpoint", "x", "--out", "y", "--threads", "0" }, "must be a whole number of at least 1, not '0'")]
    [InlineData(new[] { "serve", "--threads", "0", "--encoder", "tiny" }, "must be a whole number of at least 1, not '0'")]
    public void A_bad_value_exits_2_before_anything_runs(string[] args, string expected)
    {
        var run = HostRun.Of(args);

        run.ExitCode.ShouldBe(2);
        run.Error.ShouldContain(expected);
        run.Output.ShouldBeEmpty();
    }

    [Fact]
    public void A_bad_value_in_a_settings_file_exits_2_too()
    {
        using var folder = new TemporaryDirectory();
        var settings = folder.Combine("settings.json");
        File.WriteAllText(settings, """{ "Encoder": { "Threads": 0 } }""");

        var run = HostRun.Of("train", "--config", settings, "--encoder", "tiny");

        run.ExitCode.ShouldBe(2);
        run.Error.ShouldContain("--threads (Encoder:Threads) must be a whole number of at least 1, not '0'");
    }

    [Fact]
    public void Applying_a_count_reaches_torch_on_this_thread_and_on_threads_that_start_torch_work_later()
    {
        var before = torch.get_num_threads();
        var wanted = before == 1 ? 2 : 1;
        var log = new RecordingLogger();
        try
        {
            TorchThreads.Apply(wanted, log).ShouldBe(wanted);

            torch.get_num_threads().ShouldBe(wanted);
            // The training thread of serve is such a thread.
            var seen = 0;
            var later = new Thread(() => seen = torch.get_num_threads());
            later.Start();
            later.Join();
            seen.ShouldBe(wanted);
            log.Lines.ShouldHaveSingleItem().ShouldStartWith($"torch threads: {wanted} (--threads");
        }
        finally
        {
            torch.set_num_threads(before);
        }
    }

    [Fact]
    public void Without_a_count_torch_keeps_its_own_and_the_log_says_where_it_came_from()
    {
        var before = torch.get_num_threads();
        var log = new RecordingLogger();

        TorchThreads.Apply(null, log).ShouldBe(before);

        torch.get_num_threads().ShouldBe(before);
        var environment = Environment.GetEnvironmentVariable(TorchThreads.OpenMpVariable);
        log.Lines.ShouldHaveSingleItem().ShouldBe(string.IsNullOrWhiteSpace(environment)
            ? $"torch threads: {before} (torch's default, one per physical core; on a shared machine pass --threads N or set OMP_NUM_THREADS)"
            : $"torch threads: {before} (OMP_NUM_THREADS={environment})");
    }

    private sealed class RecordingLogger : ILogger
    {
        public List<string> Lines { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        // Information only: on a one-core machine asking for two threads also warns.
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel == LogLevel.Information)
            {
                Lines.Add(formatter(state, exception));
            }
        }
    }
}

/// <summary>The command line's <c>--threads</c> reaches torch before the command's torch work.</summary>
[Collection(InferenceCollection.Name)]
public sealed class TorchThreadsCommandTests(InferenceCheckpoint checkpoint)
{
    [Fact]
    public void Predict_with_threads_runs_with_that_many_torch_threads()
    {
        var before = torch.get_num_threads();
        var wanted = before == 1 ? 2 : 1;
        try
        {
            var run = HostRun.Of("predict", "--checkpoint", checkpoint.Checkpoint, "--plugins", checkpoint.Plugins, "--text", "free money",
                "--threads", wanted.ToString(System.Globalization.CultureInfo.InvariantCulture), "--json");

            run.ExitCode.ShouldBe(0, run.Error);
            torch.get_num_threads().ShouldBe(wanted);
        }
        finally
        {
            torch.set_num_threads(before);
        }
    }
}
