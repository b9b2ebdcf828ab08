using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using MtlHost.Abstractions;
using MtlHost.Core.Sampling;
using MtlHost.Core.Training;
using MtlHost.HotReload;
using MtlHost.Plugins;
using static TorchSharp.torch;

namespace MtlHost.Benchmarks;

/// <summary>
/// Hot reload figures: (a) latency from a changed plugin DLL being complete on disk to the end of the
/// first training step after the swap (and to the swap itself), minus the debounce interval, over repeated replaces of the Spam
/// sample plugin next to WordClass, split into the wait for the step boundary and the boundary itself (preparation, if it
/// happens there, and the swap); once preparing at the boundary (before) and once in the background (after,
/// <see cref="HotReloadOptions.PrepareInBackground"/>); (b) RSS after 10 and after many replace cycles.
/// </summary>
public static class ReloadBenchmark
{
    /// <summary>Runs both measurements.</summary>
    /// <param name="setup">Sample plugins, tokenizer, encoder shape.</param>
    /// <param name="replaces">Replaces timed for latency.</param>
    /// <param name="cycles">Replace cycles for the memory figure.</param>
    public static void Run(BenchmarkSetup setup, int replaces, int cycles)
    {
        foreach (var background in new[] { false, true })
        {
            var swaps = new List<Swap>();
            var latencies = Measure(setup, replaces, TimeSpan.FromMilliseconds(200), background, swaps, out _, out _);
            var sorted = latencies.Order().ToList();
            Console.WriteLine();
            Console.WriteLine($"hot reload latency, {setup.EncoderName} encoder, {replaces} replaces of Spam (debounce 200 ms excluded), " +
                              (background ? "after: prepared in the background while the step runs" : "before: prepared at the step boundary"));
            Console.WriteLine($"  to the end of the first step on the new code: median {sorted[sorted.Count / 2]:F0} ms, max {sorted[^1]:F0} ms, min {sorted[0]:F0} ms (target median < 500 ms)");
            // The same without the first step that runs the new code (a MiniLM step alone takes about a second here).
            Print("to the swap (the start of that step)", swaps.Select(s => s.Wait + s.Boundary));
            Print("  waiting for the step in flight", swaps.Select(s => s.Wait));
            Print("  the rest (at the boundary: swap etc.)", swaps.Select(s => s.Boundary));
            Console.WriteLine($"  boundaries passed before the change was ready: {string.Join(" ", swaps.Select(s => s.BoundariesPassed))}");
            Console.WriteLine($"  all (wait+rest): {string.Join(" ", swaps.Select(s => $"{s.Wait:F0}+{s.Boundary:F0}"))}");
        }

        if (cycles <= 0)
        {
            return;
        }
        Measure(setup, cycles, TimeSpan.FromMilliseconds(50), background: true, [], out var at10, out var atEnd);
        Console.WriteLine();
        Console.WriteLine($"memory over replace cycles, {setup.EncoderName} encoder:");
        Console.WriteLine($"  RSS after 10 cycles : {at10:F1} MiB");
        Console.WriteLine($"  RSS after {cycles} cycles: {atEnd:F1} MiB");
        Console.WriteLine($"  growth: {100 * (atEnd - at10) / at10:+0.0;-0.0}% (target < 10%)");
    }

    private static void Print(string what, IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        Console.WriteLine($"  {what}: median {sorted[sorted.Count / 2]:F0} ms, max {sorted[^1]:F0} ms");
    }

    // One replace, seen from the training loop: from the change being eligible (complete on disk + debounce) to the start of the
    // boundary that swapped it in, that boundary's own length, and how many boundaries came and went while it was not ready.
    private sealed record Swap(double Wait, double Boundary, int BoundariesPassed);

    private static List<double> Measure(BenchmarkSetup setup, int replaces, TimeSpan debounce, bool background, List<Swap> swaps,
        out double residentAt10, out double residentAtEnd)
    {
        residentAt10 = residentAtEnd = 0;
        var plugins = Path.Combine(Path.GetTempPath(), "mtlhost-reload-bench", Guid.NewGuid().ToString("N")[..8]);
        foreach (var name in new[] { "Spam", "WordClass" })
        {
            PluginFolderCopy.Copy(Path.Combine(setup.PluginsDirectory, name), Path.Combine(plugins, name));
        }
        var dll = Path.Combine(plugins, "Spam", "Spam.dll");
        var bytes = File.ReadAllBytes(dll);
        var headOptions = new HeadOptions(setup.Config.HiddenSize, setup.Config.HiddenDropout);
        var options = new TrainingOptions { Steps = 1_000_000, BatchSize = 16, LogEvery = 0, Seed = 3 };
        var factory = new TaskRuntimeFactory(setup.Tokenizer, headOptions, CPU, options, NullLogger.Instance);
        var coordinator = new HotReloadCoordinator(plugins, new TaskPluginLoader(headOptions), factory,
            new HotReloadOptions { Debounce = debounce, PollInterval = TimeSpan.FromSeconds(5), ProbationSteps = 1, PrepareInBackground = background },
            NullLogger.Instance);
        var encoder = setup.CreateEncoder(3);
        var trainer = new JointTrainer(encoder, coordinator.LoadInitial(), new ProportionalTaskSampler(), options, 5e-4, CPU,
            setup.Tokenizer.PadId, NullLogger.Instance);
        coordinator.Attach(trainer);
        for (var i = 0; i < 10; i++)
        {
            trainer.RunStep();
        }

        var latencies = new List<double>();
        for (var cycle = 1; cycle <= replaces; cycle++)
        {
            // A complete new file appears at once, as a build's copy step or a deploy would leave it.
            var staging = Path.Combine(plugins, $".Spam.{cycle}.tmp");
            File.WriteAllBytes(staging, bytes);
            File.Move(staging, dll, overwrite: true);
            var complete = Stopwatch.GetTimestamp();
            var replacedBefore = coordinator.Status.Events.Count(e => e.Kind == PluginEventKind.Replaced);
            var passed = 0;
            while (coordinator.Status.Events.Count(e => e.Kind == PluginEventKind.Replaced) == replacedBefore)
            {
                if (Stopwatch.GetElapsedTime(complete) > TimeSpan.FromSeconds(30))
                {
                    throw new InvalidOperationException("The replace was not applied within 30 s; events: " +
                        string.Join("\n", coordinator.Status.Events.Select(e => $"{e.Kind} {e.Plugin} {e.Message}")));
                }
                var boundaryStart = Stopwatch.GetElapsedTime(complete).TotalMilliseconds - debounce.TotalMilliseconds;
                var applied = coordinator.ApplyPendingChanges();
                if (coordinator.Status.Events.Count(e => e.Kind == PluginEventKind.Replaced) > replacedBefore)
                {
                    var boundaryEnd = Stopwatch.GetElapsedTime(complete).TotalMilliseconds - debounce.TotalMilliseconds;
                    swaps.Add(new Swap(boundaryStart, boundaryEnd - boundaryStart, passed));
                }
                else if (boundaryStart > 0)
                {
                    passed++;
                }
                trainer.RunStep();
                if (Environment.GetEnvironmentVariable("MTLHOST_BENCH_VERBOSE") == "1")
                {
                    Console.WriteLine($"    {Stopwatch.GetElapsedTime(complete).TotalMilliseconds:F0} ms: applied {applied}, step {trainer.Step}");
                }
            }
            // The swap happened at the last safe point, and the step after it, the first to run the new code, has just ended.
            // (This used to be measured after one more step, which added a whole step to each figure.)
            latencies.Add(Stopwatch.GetElapsedTime(complete).TotalMilliseconds - debounce.TotalMilliseconds);
            trainer.RunStep();
            if (Environment.GetEnvironmentVariable("MTLHOST_BENCH_VERBOSE") == "1")
            {
                var swap = coordinator.Status.Events.Last(e => e.Kind == PluginEventKind.Replaced);
                Console.WriteLine($"  cycle {cycle}: {latencies[^1]:F0} ms (load+validate+data+swap {swap.Milliseconds:F0} ms), step {trainer.Step}, live {coordinator.Status.LiveContexts}");
            }
            // Probation ends once the new Spam head trained; then the old version is unloaded.
            for (var i = 0; i < 20 && coordinator.Status.LiveContexts > 2; i++)
            {
                coordinator.ApplyPendingChanges();
                trainer.RunStep();
            }
            if (cycle == 10)
            {
                coordinator.WaitForUnloads(TimeSpan.FromSeconds(20));
                residentAt10 = ProcessMemory.ResidentMiB();
            }
        }
        coordinator.WaitForUnloads(TimeSpan.FromSeconds(20));
        residentAtEnd = ProcessMemory.ResidentMiB();
        var failed = coordinator.Status.FailedUnloads;
        var live = coordinator.Status.LiveContexts;
        foreach (var leak in coordinator.Status.Events.Where(e => e.Kind == PluginEventKind.UnloadFailed))
        {
            Console.WriteLine($"  unload failed: {leak.Plugin} {leak.OldVersion} retired at step {leak.Step}, alive after {leak.Milliseconds:F0} ms");
        }
        if (live > 2 && Environment.GetEnvironmentVariable("MTLHOST_BENCH_HOLD_ON_LEAK") is { } hold)
        {
            // For a heap dump of the leaked context (dotnet-dump collect -p PID), then whether it goes late.
            Console.WriteLine($"  {live} live contexts: holding {hold} s for a dump, pid {Environment.ProcessId}");
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < TimeSpan.FromSeconds(int.Parse(hold, System.Globalization.CultureInfo.InvariantCulture)))
            {
                Thread.Sleep(1000);
                GC.Collect();
                GC.WaitForPendingFinalizers();
                GC.Collect();
                if (coordinator.Status.LiveContexts <= 2)
                {
                    Console.WriteLine($"  the leaked context was collected late, {clock.Elapsed.TotalSeconds:F0} s after the end");
                    break;
                }
            }
        }
        foreach (var task in trainer.Tasks)
        {
            task.Dispose();
        }
        trainer.Dispose();
        coordinator.Dispose();
        encoder.Dispose();
        Directory.Delete(plugins, recursive: true);
        Console.WriteLine($"  ({replaces} replaces: {failed} failed unloads, {live} live contexts at the end)");
        return latencies;
    }
}
