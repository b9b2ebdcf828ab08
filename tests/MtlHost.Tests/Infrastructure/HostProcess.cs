using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace MtlHost.Tests.Infrastructure;

/// <summary>
/// The built <c>mtlhost</c> as a separate process, as a shell or systemd starts it: for what only a real process shows
/// (signals, the exit code). Keeps everything it printed; killed on dispose if still running.
/// </summary>
public sealed class HostProcess : IDisposable
{
    private const int SigTerm = 15;

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _error = new();

    private HostProcess(Process process)
    {
        _process = process;
    }

    /// <summary>The host's main assembly, as its own build leaves it (same configuration as the tests).</summary>
    public static string HostAssembly
    {
        get
        {
            // tests/MtlHost.Tests/bin/<Configuration>/<tfm>/
            var tfm = new DirectoryInfo(AppContext.BaseDirectory);
            var configuration = tfm.Parent!.Name;
            return Path.Combine(RepositoryPaths.Root, "src", "MtlHost", "bin", configuration, tfm.Name, "mtlhost.dll");
        }
    }

    /// <summary>Everything written to standard output so far.</summary>
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

    /// <summary>Everything written to standard error so far.</summary>
    public string Error
    {
        get
        {
            lock (_error)
            {
                return _error.ToString();
            }
        }
    }

    /// <summary>Starts <c>mtlhost</c> with <paramref name="args"/>.</summary>
    /// <param name="args">The arguments.</param>
    /// <returns>The running process.</returns>
    public static HostProcess Start(params string[] args) => Start(new Dictionary<string, string?>(), args);

    /// <summary>Starts <c>mtlhost</c> with <paramref name="args"/> and <paramref name="environment"/> added to (or, with a <see langword="null"/> value, removed from) this process's environment.</summary>
    /// <param name="environment">Environment variables to set or remove.</param>
    /// <param name="args">The arguments.</param>
    /// <returns>The running process.</returns>
    public static HostProcess Start(IReadOnlyDictionary<string, string?> environment, params string[] args)
    {
        if (!File.Exists(HostAssembly))
        {
            throw new InvalidOperationException($"{HostAssembly} is missing; build src/MtlHost first.");
        }
        var start = new ProcessStartInfo(DotnetCli.Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (name, value) in environment)
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }
        start.ArgumentList.Add(HostAssembly);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        var process = new Process { StartInfo = start };
        var host = new HostProcess(process);
        process.OutputDataReceived += (_, e) => Append(host._output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(host._error, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return host;
    }

    /// <summary>Waits until standard error has a line containing <paramref name="text"/>; fails if the process ends first.</summary>
    /// <param name="text">The text.</param>
    /// <returns>The line.</returns>
    public string WaitForErrorLine(string text)
    {
        // Bounds a hang; it does not measure speed.
        for (var deadline = DateTime.UtcNow.AddMinutes(3); DateTime.UtcNow < deadline; Thread.Sleep(100))
        {
            var line = Error.Split('\n').FirstOrDefault(l => l.Contains(text, StringComparison.Ordinal));
            if (line is not null)
            {
                return line.TrimEnd('\r');
            }
            if (_process.HasExited)
            {
                break;
            }
        }
        throw new InvalidOperationException($"mtlhost never wrote '{text}' to standard error. Standard error:\n{Error}");
    }

    /// <summary>Sends SIGTERM, as <c>kill</c>, <c>docker stop</c> and systemd do.</summary>
    public void Terminate()
    {
        if (Kill(_process.Id, SigTerm) != 0)
        {
            throw new InvalidOperationException($"kill({_process.Id}, SIGTERM) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>Waits for the process to exit.</summary>
    /// <returns>Its exit code.</returns>
    public int WaitForExit()
    {
        if (!_process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            throw new InvalidOperationException($"mtlhost did not exit. Standard error:\n{Error}");
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

    private static void Append(StringBuilder text, string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (text)
        {
            text.AppendLine(line);
        }
    }

    // The dotnet that runs the tests (the SDK sets DOTNET_HOST_PATH for its child processes), else the one on PATH.

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
