using System.Text.RegularExpressions;
using MtlHost.Cli;
using MtlHost.Tests.Infrastructure;
using Shouldly;
using Xunit;

namespace MtlHost.Tests.Cli;

/// <summary>The command line is defined once: usage, each command's help and docs/command-line.md's block come from the option tables.</summary>
public sealed partial class UsageTests
{
    [Fact]
    public void The_documented_command_line_block_is_the_generated_synopsis()
    {
        var page = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "docs", "command-line.md"));
        var section = page[page.IndexOf("# Command line", StringComparison.Ordinal)..];
        var block = CodeBlock().Match(section).Groups["body"].Value.TrimEnd('\n');

        block.ShouldBe(CommandLine.Synopsis,
            "docs/command-line.md's first code block (under '# Command line') must be what 'mtlhost --help' prints between 'usage:' and the blank line; paste that in.");
    }

    [Fact]
    public void Usage_shows_every_option_the_parser_accepts()
    {
        foreach (var command in CommandLine.Commands)
        {
            var help = UsageText.Help(command);
            foreach (var option in command.Options)
            {
                help.ShouldContain("--" + option.Name, customMessage: $"'{command.Verb} --help' omits --{option.Name}");
                if (!command.NotListed.Contains(option))
                {
                    CommandLine.Synopsis.ShouldContain("--" + option.Name);
                }
            }
        }
    }

    [Fact]
    public void Every_usage_line_fits_the_width_unless_a_single_word_cannot()
    {
        foreach (var line in CommandLine.Synopsis.Split('\n').Where(l => !l.TrimStart().StartsWith('#')))
        {
            var words = line.Trim().Split(' ');
            (line.Length <= UsageText.Width || words.Length <= 3 || line.StartsWith("mtlhost plugins", StringComparison.Ordinal))
                .ShouldBeTrue($"too long: {line}");
        }
    }

    [Theory]
    [InlineData(new[] { "--help" }, "usage:")]
    [InlineData(new[] { "help" }, "usage:")]
    [InlineData(new[] { "train", "--help" }, "--clip-norm X")]
    [InlineData(new[] { "plugins", "--help" }, "--run DIR")]
    [InlineData(new[] { "eval", "-h" }, "[Encoder:Threads]")]
    public void Help_goes_to_standard_output_and_exits_0(string[] args, string expected)
    {
        var run = HostRun.Of(args);

        run.ExitCode.ShouldBe(0, run.Error);
        run.Output.ShouldContain(expected);
        run.Error.ShouldBeEmpty();
    }

    [Fact]
    public void No_arguments_is_bad_usage_with_the_usage()
    {
        var run = HostRun.Of([]);

        run.ExitCode.ShouldBe(2);
        run.Error.ShouldContain("usage:");
    }

    [GeneratedRegex(@"```\n(?<body>.*?)```", RegexOptions.Singleline)]
    private static partial Regex CodeBlock();
}
