using System.Diagnostics;
using System.Text;

namespace MtlHost.Tests.Infrastructure;

/// <summary>Runs the dotnet CLI as a child process, as a user would, and keeps what it printed.</summary>
public static class DotnetCli
{
    /// <summary>The result of one run.</summary>
    /// <param name="ExitCode">The exit code.</param>
    /// <param name="Output">Standard output and standard error, interleaved.</param>
    public sealed record Result(int ExitCode, string Output);

    /// <summary>Runs <c>dotnet</c> with <paramref name="args"/> in <paramref name="workingDirectory"/>.</summary>
    /// <param name="workingDirectory">Where to run.</param>
    /// <param name="timeout">How long to wait before killing the process tree.</param>
    /// <param name="args">The arguments.</param>
    /// <returns>What happened.</returns>
    public static Result Run(string workingDirectory, TimeSpan timeout, params string[] args)
    {
        var start = new ProcessStartInfo(Executable)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        // The test runner's own MSBuild and VSTest settings would leak into the child's build and test run.
        foreach (var name in start.Environment.Keys.ToList())
        {
            if (name.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || name.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase) ||
                name.StartsWith("TESTINGPLATFORM", StringComparison.OrdinalIgnoreCase))
            {
                start.Environment.Remove(name);
            }
        }
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        // No MSBuild worker nodes or build server may outlive the test.
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";

        var output = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (output) { output.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (output) { output.AppendLine(e.Data); } } };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            return new Result(-1, $"dotnet {string.Join(' ', args)} did not finish within {timeout}.{Environment.NewLine}{output}");
        }
        process.WaitForExit();
        lock (output)
        {
            return new Result(process.ExitCode, output.ToString());
        }
    }

    // The dotnet that runs the tests (the SDK sets DOTNET_HOST_PATH for its child processes), else the one on PATH.
    /// <summary>The dotnet executable the test run uses (<c>DOTNET_HOST_PATH</c>), else <c>dotnet</c> from the PATH.</summary>
    public static string Executable
    {
        get
        {
            var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
            return !string.IsNullOrEmpty(host) && File.Exists(host) ? host : "dotnet";
        }
    }
}
