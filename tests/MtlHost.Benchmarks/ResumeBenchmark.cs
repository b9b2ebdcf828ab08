using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging.Abstractions;
using MtlHost.Core.Checkpoints;

namespace MtlHost.Benchmarks;

/// <summary>
/// Crash resistance of checkpoint and resume: the real <c>mtlhost train</c> process is killed with SIGKILL at
/// seeded random points and restarted with the same --out until it finishes. For each kill: the step the process
/// had logged, the step the restart resumed from, the steps lost (at most one checkpoint interval expected), and
/// whether every checkpoint on disk — above all the one loaded — was complete. Some kills are aimed at the moment
/// a checkpoint is being written. Last, the interrupted run's final validation losses are compared with an
/// uninterrupted run's.
/// </summary>
public static partial class ResumeBenchmark
{
    /// <summary>Runs the benchmark.</summary>
    /// <param name="host">Path of <c>mtlhost.dll</c>.</param>
    /// <param name="plugins">The plugins folder.</param>
    /// <param name="steps">Step budget of the run.</param>
    /// <param name="every">Checkpoint interval.</param>
    /// <param name="kills">How many times to kill the process.</param>
    /// <param name="seed">Seed of the kill points.</param>
    /// <returns>0 when every kill lost at most one interval and no torn checkpoint was loaded, else 1.</returns>
    public static int Run(string host, string plugins, int steps, int every, int kills, int seed)
    {
        var root = Path.Combine(Path.GetTempPath(), $"mtlhost-resume-{Environment.ProcessId}");
        var interrupted = Path.Combine(root, "interrupted");
        var uninterrupted = Path.Combine(root, "uninterrupted");
        Directory.CreateDirectory(root);
        string[] Args(string outDirectory) =>
            ["train", "--encoder", "tiny", "--steps", Text(steps), "--checkpoint-every", Text(every), "--out", outDirectory, "--plugins", plugins, "--seed", "11"];

        Console.WriteLine();
        Console.WriteLine($"kill -9 and resume, tiny encoder, {steps} steps, a checkpoint every {every}, {kills} kills (seed {seed}), plugins {plugins}:");
        var random = new Random(seed);
        // Kill points spread over the run, in order; every other one aimed at a checkpoint write (a multiple of the interval).
        var targets = Enumerable.Range(0, kills).Select(_ => random.Next(every + 1, steps - 1)).Order().ToList();
        for (var i = 0; i < targets.Count; i += 2)
        {
            targets[i] = Math.Max(every, targets[i] / every * every);
        }
        var ok = true;
        var resumedFrom = 0;
        var starts = 0;
        var clock = Stopwatch.StartNew();
        foreach (var target in targets)
        {
            if (target <= resumedFrom)
            {
                continue;
            }
            var delay = random.Next(0, 40);
            var run = HostProcess.Start(host, Args(interrupted), killAtStep: target, killDelayMilliseconds: delay);
            starts++;
            run.WaitForExit();
            if (run.ResumedFrom != resumedFrom)
            {
                Console.WriteLine($"  restart {starts}: resumed from step {run.ResumedFrom?.ToString(CultureInfo.InvariantCulture) ?? "none"}, expected {resumedFrom}");
                ok = false;
            }
            if (!run.Killed)
            {
                Console.WriteLine($"  restart {starts}: finished (exit {run.ExitCode}) before step {target}; no kill");
                break;
            }
            // What is on disk now, as the next start will see it.
            var checkpoints = Path.Combine(interrupted, CheckpointStore.FolderName);
            var staging = Directory.EnumerateDirectories(checkpoints).Count(d => Path.GetFileName(d).StartsWith('.'));
            var complete = new List<int>();
            var torn = 0;
            foreach (var folder in Directory.EnumerateDirectories(checkpoints, "step-*"))
            {
                if (CheckpointStore.Verify(folder, out var manifest) is null)
                {
                    complete.Add(manifest!.Step);
                }
                else
                {
                    torn++;
                }
            }
            var latest = complete.Count == 0 ? 0 : complete.Max();
            var lost = run.LastLoggedStep - latest;
            var within = lost <= every && torn == 0;
            ok &= within;
            Console.WriteLine($"  kill {starts}: aimed at step {target} (+{delay} ms), had logged step {run.LastLoggedStep}{(run.LastLoggedStep % every == 0 && run.LastCheckpointLogged != run.LastLoggedStep ? " (its checkpoint not yet logged)" : "")}; " +
                              $"on disk: {complete.Count} complete checkpoint(s), latest step {latest}, {torn} torn, {staging} staging leftover(s) " +
                              $"{(staging > 0 ? "[killed mid-write] " : "")}-> steps lost {lost} (limit {every}) {(within ? "ok" : "FAIL")}");
            resumedFrom = latest;
        }

        var last = HostProcess.Start(host, Args(interrupted), killAtStep: null, killDelayMilliseconds: 0);
        starts++;
        last.WaitForExit();
        ok &= last.ExitCode == 0 && last.ResumedFrom == resumedFrom;
        Console.WriteLine($"  final start: resumed from step {last.ResumedFrom}, exit {last.ExitCode}; {starts} starts in {clock.Elapsed.TotalSeconds:F0} s");

        var reference = HostProcess.Start(host, Args(uninterrupted), killAtStep: null, killDelayMilliseconds: 0);
        reference.WaitForExit();
        var worst = 0.0;
        var a = ValidationLosses(uninterrupted);
        var b = ValidationLosses(interrupted);
        foreach (var (task, loss) in a)
        {
            worst = Math.Max(worst, b.TryGetValue(task, out var other) ? Math.Abs(other - loss) : double.PositiveInfinity);
        }
        Console.WriteLine($"  final validation losses vs an uninterrupted run ({a.Count} tasks): largest difference {worst:G3}");
        Console.WriteLine($"  result: {(ok ? "every kill lost at most one interval; no torn checkpoint was ever loaded" : "FAILED")}");
        try
        {
            Directory.Delete(root, recursive: true);
        }
        catch (IOException)
        {
            // A temporary folder left behind is harmless.
        }
        return ok ? 0 : 1;
    }

    private static Dictionary<string, double> ValidationLosses(string run)
    {
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "summary.json")));
        return summary.RootElement.GetProperty("tasks").EnumerateArray()
            .ToDictionary(t => t.GetProperty("id").GetString()!, t => t.GetProperty("validation").GetProperty("loss").GetDouble());
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>One <c>mtlhost train</c> process, watched through its log on standard error.</summary>
    private sealed partial class HostProcess
    {
        private readonly Process _process;
        private readonly int? _killAtStep;
        private readonly int _killDelay;
        private readonly object _gate = new();

        private HostProcess(Process process, int? killAtStep, int killDelay)
        {
            _process = process;
            _killAtStep = killAtStep;
            _killDelay = killDelay;
        }

        public int LastLoggedStep { get; private set; }

        public int LastCheckpointLogged { get; private set; }

        public int? ResumedFrom { get; private set; }

        public bool Killed { get; private set; }

        public int ExitCode => _process.ExitCode;

        public static HostProcess Start(string host, string[] args, int? killAtStep, int killDelayMilliseconds)
        {
            var info = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            info.ArgumentList.Add(host);
            foreach (var arg in args)
            {
                info.ArgumentList.Add(arg);
            }
            // A log line per step: the benchmark's view of how far the run got.
            info.Environment["MTLHOST_Training__LogEvery"] = "1";
            var process = new Process { StartInfo = info };
            var run = new HostProcess(process, killAtStep, killDelayMilliseconds);
            process.ErrorDataReceived += (_, e) => run.OnLog(e.Data);
            process.OutputDataReceived += (_, _) => { };
            process.Start();
            process.BeginErrorReadLine();
            process.BeginOutputReadLine();
            // A fresh run logs no resume line: it starts from step 0.
            run.ResumedFrom = 0;
            return run;
        }

        public void WaitForExit() => _process.WaitForExit();

        private void OnLog(string? line)
        {
            if (line is null)
            {
                return;
            }
            lock (_gate)
            {
                if (ResumeLine().Match(line) is { Success: true } resumed)
                {
                    ResumedFrom = int.Parse(resumed.Groups[1].Value, CultureInfo.InvariantCulture);
                }
                if (CheckpointLine().Match(line) is { Success: true } written)
                {
                    LastCheckpointLogged = int.Parse(written.Groups[1].Value, CultureInfo.InvariantCulture);
                }
                if (StepLine().Match(line) is not { Success: true } step || Killed)
                {
                    return;
                }
                LastLoggedStep = int.Parse(step.Groups[1].Value, CultureInfo.InvariantCulture);
                if (LastLoggedStep >= _killAtStep)
                {
                    if (_killDelay > 0)
                    {
                        Thread.Sleep(_killDelay);
                    }
                    // SIGKILL on Unix: no handler, no shutdown checkpoint — the process just stops.
                    _process.Kill();
                    Killed = true;
                }
            }
        }

        [GeneratedRegex(@"\] step ([0-9]+)/[0-9]+ ")]
        private static partial Regex StepLine();

        [GeneratedRegex(@"Resuming from .*: step ([0-9]+)/")]
        private static partial Regex ResumeLine();

        [GeneratedRegex(@"Step ([0-9]+): wrote checkpoint ")]
        private static partial Regex CheckpointLine();
    }
}
