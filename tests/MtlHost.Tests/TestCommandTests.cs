using System.Text.RegularExpressions;
using MtlHost.Tests.Infrastructure;
using Shouldly;
using Xunit;

namespace MtlHost.Tests;

/// <summary>
/// The README's test command is <c>./test.sh</c>, which installs the browser the dashboard's browser test needs
/// before running <c>dotnet test</c>. These keep the README, the script, CI and the browser test's failure message
/// saying the same thing: the script is only useful if it looks where the test looks, and CI runs what the README says.
/// </summary>
public sealed class TestCommandTests
{
    private static readonly string Script = Path.Combine(RepositoryPaths.Root, "test.sh");

    [Fact]
    public void The_README_names_test_sh_as_the_test_command_and_CI_runs_it()
    {
        var readme = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "README.md"));
        var twoCommands = Regex.Match(readme, @"## Two commands.*?```bash\n(?<commands>.*?)```", RegexOptions.Singleline).Groups["commands"].Value;
        var ci = File.ReadAllText(Path.Combine(RepositoryPaths.Root, ".ci", "run"));

        twoCommands.Split('\n').ShouldContain(line => line.StartsWith("./test.sh "), twoCommands);
        ci.Split('\n').ShouldContain(line => line.StartsWith("./test.sh "), "CI runs the README's test command");
        ci.Split('\n').ShouldNotContain(line => line.TrimStart().StartsWith("dotnet test"), "CI runs the tests through ./test.sh");
    }

    [Fact]
    public void The_script_installs_chromium_where_the_browser_test_finds_none_and_runs_dotnet_test()
    {
        var script = File.ReadAllText(Script);

        if (!OperatingSystem.IsWindows())
        {
            File.GetUnixFileMode(Script).HasFlag(UnixFileMode.UserExecute).ShouldBeTrue("./test.sh must be executable");
        }
        // The places HeadlessChromium.Executable looks: a browser the test would use is never installed again.
        foreach (var place in new[] { "MTLHOST_CHROMIUM", "/usr/bin/chromium", "chromium-browser", "google-chrome" })
        {
            script.ShouldContain(place);
        }
        script.ShouldContain("apt-get install -y -qq chromium");
        script.TrimEnd().Split('\n')[^1].ShouldBe("exec dotnet test \"$@\"");
    }

    [Fact]
    public void The_browser_tests_failure_message_names_the_fix()
    {
        HeadlessChromium.InstallHint.ShouldContain("./test.sh");
        HeadlessChromium.InstallHint.ShouldContain("apt-get install -y chromium");
    }
}
