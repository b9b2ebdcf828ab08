using MtlHost.Cli;
using MtlHost.Tests.Infrastructure;
using Shouldly;
using Xunit;

namespace MtlHost.Tests.Cli;

public sealed class CommandLineTests
{
    [Fact]
    public void Options_map_to_configuration_keys()
    {
        var command = CommandLine.Parse(["train", "--steps", "12", "--encoder=TINY", "--json", "--seed", "-3"]);

        command.Verb.ShouldBe("train");
        command.Has("json").ShouldBeTrue();
        command.ToConfiguration().ShouldBe(
            [new("Encoder:Name", "tiny"), new("Training:Steps", "12"), new("Training:Seed", "-3")], ignoreOrder: true);
    }

    [Theory]
    [InlineData(new[] { "train", "--stepz", "3" }, "unknown option --stepz")]
    [InlineData(new[] { "train", "--steps", "many" }, "--steps must be a whole number, not 'many'")]
    [InlineData(new[] { "train", "--steps" }, "--steps needs a value")]
    [InlineData(new[] { "train", "--encoder", "bert-large" }, "--encoder 'bert-large' is not known; use one of minilm, minilm-random, tiny")]
    [InlineData(new[] { "train", "--weighting", "magic" }, "--weighting 'magic' is not known")]
    [InlineData(new[] { "fly" }, "unknown command 'fly'")]
    [InlineData(new[] { "plugins" }, "say 'list' or 'check'")]
    [InlineData(new[] { "train", "--json", "--json" }, "--json is given twice")]
    public void Bad_usage_exits_2_with_a_message_naming_the_problem(string[] args, string expected)
    {
        var run = HostRun.Of(args);

        run.ExitCode.ShouldBe(2);
        run.Error.ShouldContain(expected);
        run.Output.ShouldBeEmpty();
    }

    [Fact]
    public void Asking_for_cuda_where_there_is_none_exits_2_and_says_what_to_do()
    {
        if (TorchSharp.torch.cuda.is_available())
        {
            return;
        }

        var run = HostRun.Of("train", "--device", "cuda", "--encoder", "tiny", "--plugins", RepositoryPaths.SamplePlugins);

        run.ExitCode.ShouldBe(2);
        run.Error.ShouldContain("CUDA is not available");
        run.Error.ShouldContain("--device cpu");
    }

    [Fact]
    public void A_bad_value_in_a_settings_file_exits_2_naming_the_setting()
    {
        using var folder = new TemporaryDirectory();
        var settings = folder.Combine("settings.json");
        File.WriteAllText(settings, """{ "Training": { "BatchSize": 0 } }""");

        var run = HostRun.Of("train", "--config", settings, "--encoder", "tiny", "--plugins", RepositoryPaths.SamplePlugins);

        run.ExitCode.ShouldBe(2);
        run.Error.ShouldContain("--batch-size must be at least 1");
    }

    [Fact]
    public void A_settings_file_that_is_not_JSON_exits_2()
    {
        using var folder = new TemporaryDirectory();
        var settings = folder.Combine("settings.json");
        File.WriteAllText(settings, "{ Training: ");

        var run = HostRun.Of("train", "--config", settings, "--encoder", "tiny");

        run.ExitCode.ShouldBe(2);
        run.Error.ShouldContain("is not valid JSON");
    }
}
