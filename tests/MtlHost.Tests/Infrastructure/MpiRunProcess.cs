using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace MtlHost.Tests.Infrastructure;

/// <summary>
/// An <c>mpirun</c> left running while a test acts on it: changes its plugins folder, signals its ranks, kills one.
/// Keeps everything it printed; killed with its ranks on dispose if still running.
/// </summary>
public sealed class MpiRunProcess : IDisposable
{
    private const int SigKill = 9, SigTerm = 15;
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private MpiRunProcess(Process process) => _process = process;

    /// <summary>Everything mpirun and the ranks printed so far, standard output and error interleaved.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts <paramref name="command"/> on <paramref name="ranks"/> ranks (see <see cref="MpiRun.StartInfo"/>).</summary>
    /// <param name="ranks">How many processes.</param>
    /// <param name="command">The program and its arguments.</param>
    /// <returns>The running mpirun.</returns>
    public static MpiRunProcess Start(int ranks, IReadOnlyList<string> command)
    {
        var process = new Process { StartInfo = MpiRun.StartInfo(ranks, command) };
        var run = new MpiRunProcess(process);
        process.OutputDataReceived += (_, e) => run.Append(e.Data);
        process.ErrorDataReceived += (_, e) => run.Append(e.Data);
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return run;
    }

    /// <summary>The rank processes: mpirun's children that run <c>dotnet</c>, waiting until <paramref name="count"/> are there.</summary>
    /// <param name="count">How many ranks to expect.</param>
    /// <returns>Their process ids, in ascending order.</returns>
    public IReadOnlyList<int> RankProcessIds(int count)
    {
        for (var deadline = DateTime.UtcNow.AddMinutes(2); DateTime.UtcNow < deadline; Thread.Sleep(100))
        {
            var children = Directory.GetDirectories($"/proc/{_process.Id}/task")
                .SelectMany(task => File.ReadAllText(Path.Combine(task, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries))
                .Select(int.Parse).Distinct().Order().ToList();
            if (children.Count >= count)
            {
                return children;
            }
            if (_process.HasExited)
            {
                break;
            }
        }
        throw new InvalidOperationException($"mpirun did not start {count} ranks. Output:\n{Output}");
    }

    /// <summary>The process of one rank, found by the <c>OMPI_COMM_WORLD_RANK</c> mpirun set in its environment.</summary>
    /// <param name="rank">The rank.</param>
    /// <param name="ranks">How many ranks there are.</param>
    /// <returns>Its process id.</returns>
    public int RankProcessId(int rank, int ranks)
    {
        var wanted = $"OMPI_COMM_WORLD_RANK={rank}";
        foreach (var pid in RankProcessIds(ranks))
        {
            if (File.ReadAllText($"/proc/{pid}/environ").Split('\0').Contains(wanted))
            {
                return pid;
            }
        }
        throw new InvalidOperationException($"No process of mpirun has {wanted}. Output:\n{Output}");
    }

    /// <summary>Sends SIGTERM to every rank (as a stop of the job's processes would), not to mpirun.</summary>
    /// <param name="ranks">How many ranks there are.</param>
    public void TerminateRanks(int ranks)
    {
        foreach (var pid in RankProcessIds(ranks))
        {
            Signal(pid, SigTerm);
        }
    }

    /// <summary>Sends SIGTERM to one rank only (as systemd or kill would stop one process of the job).</summary>
    /// <param name="rank">The rank.</param>
    /// <param name="ranks">How many ranks there are.</param>
    public void TerminateRank(int rank, int ranks) => Signal(RankProcessId(rank, ranks), SigTerm);

    /// <summary>Sends SIGTERM to one process, found earlier (a rank that may outlive the others).</summary>
    /// <param name="pid">The process.</param>
    public static void Terminate(int pid) => Signal(pid, SigTerm);

    /// <summary>Kills one process with SIGKILL: it gets no chance to tell anyone.</summary>
    /// <param name="pid">The process.</param>
    public static void KillHard(int pid) => Signal(pid, SigKill);

    /// <summary>Waits until the output has a line containing <paramref name="text"/>; fails if mpirun ends first or after 3 minutes.</summary>
    /// <param name="text">The text.</param>
    public void WaitForOutput(string text)
    {
        for (var deadline = DateTime.UtcNow.AddMinutes(3); DateTime.UtcNow < deadline; Thread.Sleep(100))
        {
            if (Output.Contains(text, StringComparison.Ordinal))
            {
                return;
            }
            if (_process.HasExited)
            {
                break;
            }
        }
        throw new InvalidOperationException($"The ranks never printed '{text}'. Output:\n{Output}");
    }

    /// <summary>Waits for mpirun to exit.</summary>
    /// <param name="timeout">The longest wait: a bound on a hang.</param>
    /// <returns>Its exit code, or null when it was still running at the timeout.</returns>
    public int? WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            return null;
        }
        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    private static void Signal(int pid, int signal)
    {
        if (Kill(pid, signal) != 0)
        {
            throw new InvalidOperationException($"kill({pid}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
