using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace MtlHost.Tests.Infrastructure;

/// <summary>
/// Open MPI's <c>mpirun</c> starting the MPI probe (tests/MtlHost.MpiProbe) on several ranks of this machine, as a user
/// starts a data-parallel run: <c>mpirun -np N dotnet MtlHost.MpiProbe.dll SCENARIO</c>.
/// </summary>
public static class MpiRun
{
    /// <summary>What to do when mpirun is missing.</summary>
    public const string InstallHint =
        "mpirun (Open MPI) is needed for the MPI tests and was not found on PATH. Install it: " +
        "sudo apt-get install -y openmpi-bin libopenmpi-dev (Debian/Ubuntu; ./test.sh does this).";

    /// <summary>The result of one run.</summary>
    /// <param name="ExitCode">mpirun's exit code; -1 when it was killed at the time limit.</param>
    /// <param name="Output">Everything mpirun and the ranks printed, standard output and error interleaved.</param>
    /// <param name="Elapsed">From start to exit.</param>
    /// <param name="FirstMarkerToExit">From the first line containing the marker to exit; null when no line had it.</param>
    public sealed record Result(int ExitCode, string Output, TimeSpan Elapsed, TimeSpan? FirstMarkerToExit);

    /// <summary>The probe program, next to the tests (the test project references it for that).</summary>
    public static string Probe => Path.Combine(AppContext.BaseDirectory, "MtlHost.MpiProbe.dll");

    /// <summary>mpirun on PATH with every link resolved, or null.</summary>
    /// <remarks>
    /// Resolved because Open MPI takes the folder it was started from as its installation prefix: started as
    /// /bin/mpirun (where /bin links to /usr/bin) it refuses the prefix "/" and starts nothing.
    /// </remarks>
    public static string? Executable =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Select(d => Path.Combine(d, "mpirun")).Where(File.Exists).Select(RealPath).FirstOrDefault();

    /// <summary>Runs the probe's <paramref name="scenario"/> on <paramref name="ranks"/> ranks.</summary>
    /// <param name="ranks">How many processes.</param>
    /// <param name="scenario">The probe's scenario.</param>
    /// <param name="timeout">When to kill mpirun and its ranks: a bound on a hang, not a speed limit.</param>
    /// <param name="marker">Text whose first appearance starts <see cref="Result.FirstMarkerToExit"/>.</param>
    /// <returns>What happened.</returns>
    /// <exception cref="InvalidOperationException">mpirun is not installed (the message says how to install it) or the probe is not built.</exception>
    public static Result RunProbe(int ranks, string scenario, TimeSpan timeout, string? marker = null) =>
        Run(ranks, [DotnetCli.Executable, Probe, scenario], timeout, marker);

    /// <summary>Runs <paramref name="command"/> on <paramref name="ranks"/> ranks.</summary>
    /// <param name="ranks">How many processes.</param>
    /// <param name="command">The program and its arguments.</param>
    /// <param name="timeout">When to kill mpirun and its ranks.</param>
    /// <param name="marker">Text whose first appearance starts <see cref="Result.FirstMarkerToExit"/>.</param>
    /// <returns>What happened.</returns>
    public static Result Run(int ranks, IReadOnlyList<string> command, TimeSpan timeout, string? marker = null)
    {
        var start = StartInfo(ranks, command);
        var output = new StringBuilder();
        var clock = Stopwatch.StartNew();
        TimeSpan? markerAt = null;
        void Append(string? line)
        {
            if (line is null)
            {
                return;
            }
            lock (output)
            {
                if (marker is not null && markerAt is null && line.Contains(marker, StringComparison.Ordinal))
                {
                    markerAt = clock.Elapsed;
                }
                output.AppendLine(line);
            }
        }
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(timeout))
        {
            // mpirun's tree: the ranks are its children.
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            lock (output)
            {
                return new Result(-1, $"mpirun did not finish within {timeout}; killed.{Environment.NewLine}{output}", clock.Elapsed, null);
            }
        }
        process.WaitForExit();
        var elapsed = clock.Elapsed;
        lock (output)
        {
            return new Result(process.ExitCode, output.ToString(), elapsed, markerAt is { } at ? elapsed - at : null);
        }
    }

    /// <summary>What starts <paramref name="command"/> on <paramref name="ranks"/> ranks of this machine, output and error redirected.</summary>
    /// <param name="ranks">How many processes.</param>
    /// <param name="command">The program and its arguments.</param>
    /// <returns>The start info.</returns>
    /// <exception cref="InvalidOperationException">mpirun is not installed (the message says how to install it) or the probe is not built.</exception>
    public static ProcessStartInfo StartInfo(int ranks, IReadOnlyList<string> command)
    {
        var mpirun = Executable ?? throw new InvalidOperationException(InstallHint);
        if (!File.Exists(Probe))
        {
            throw new InvalidOperationException($"{Probe} is missing; build tests/MtlHost.Tests (it references the probe).");
        }
        var start = new ProcessStartInfo(mpirun)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        // --allow-run-as-root: CI and the development machines run as root, which mpirun refuses without it.
        // --oversubscribe: more ranks than cores is fine for a correctness test (2 cores here).
        // btl self,vader: the ranks talk through shared memory only; oob over lo: mpirun talks to them over loopback,
        // so the tests open no socket on any other interface.
        foreach (var arg in new[] { "--allow-run-as-root", "--oversubscribe", "-np", ranks.ToString(System.Globalization.CultureInfo.InvariantCulture),
                     "--mca", "btl", "self,vader", "--mca", "oob_tcp_if_include", "lo" }.Concat(command))
        {
            start.ArgumentList.Add(arg);
        }
        return start;
    }

    private static string RealPath(string path)
    {
        var resolved = CRealPath(path, IntPtr.Zero);
        if (resolved == IntPtr.Zero)
        {
            return path;
        }
        try
        {
            return Marshal.PtrToStringUTF8(resolved) ?? path;
        }
        finally
        {
            Free(resolved);
        }
    }

    [DllImport("libc", EntryPoint = "realpath")]
    private static extern IntPtr CRealPath([MarshalAs(UnmanagedType.LPUTF8Str)] string path, IntPtr resolved);

    [DllImport("libc", EntryPoint = "free")]
    private static extern void Free(IntPtr pointer);

    // The dotnet that runs the tests (the SDK sets DOTNET_HOST_PATH for its child processes), else the one on PATH.
}
