using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;

namespace MtlHost.Benchmarks;

/// <summary>
/// Latency of <c>POST /api/predict</c> of the real <c>mtlhost serve</c> process over loopback: a short run writes its
/// checkpoint, then one client asks sequentially (the baseline) and then several clients at once. Both phases send the
/// same requests — every text the same number of whole passes — so they do the same work and differ only in how many
/// requests are in flight. Prints p50/p99 latency and requests/s of both, and their ratios: what batching concurrent
/// requests buys.
/// </summary>
public static class PredictLatencyBenchmark
{
    /// <summary>Runs the benchmark.</summary>
    /// <param name="host">Path of <c>mtlhost.dll</c>.</param>
    /// <param name="plugins">The plugins folder.</param>
    /// <param name="encoder">Encoder name.</param>
    /// <param name="clients">Concurrent clients of the loaded phase.</param>
    /// <param name="passes">Passes over <paramref name="texts"/> in each phase.</param>
    /// <param name="texts">Texts to ask about, in turn.</param>
    /// <param name="threads">libtorch threads of the serve process (OMP_NUM_THREADS, which libtorch reads at start).</param>
    /// <returns>0, or 1 when the service did not come up.</returns>
    public static int Run(string host, string plugins, string encoder, int clients, int passes, IReadOnlyList<string> texts, int threads)
    {
        var outDirectory = Path.Combine(Path.GetTempPath(), $"mtlhost-predict-{Environment.ProcessId}");
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet", [host, "serve", "--encoder", encoder, "--plugins", plugins, "--out", outDirectory,
            "--urls", $"http://127.0.0.1:{port}", "--steps", "2", "--max-length", "128"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["OMP_NUM_THREADS"] = threads.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var server = Process.Start(start)!;
        server.OutputDataReceived += (_, _) => { };
        server.ErrorDataReceived += (_, _) => { };
        server.BeginOutputReadLine();
        server.BeginErrorReadLine();
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromMinutes(1) };
        try
        {
            Console.WriteLine();
            Console.WriteLine($"POST /api/predict over loopback, serve --encoder {encoder}, every task of {plugins}, {threads} threads, " +
                              $"{passes} passes over {texts.Count} texts ({passes * texts.Count} requests) per phase:");
            if (!WaitUntilServing(client, texts[0], TimeSpan.FromMinutes(5)))
            {
                Console.WriteLine("  the service did not answer predictions within 5 minutes");
                return 1;
            }
            // Warm-up: the first requests pay for JIT and allocator growth.
            Phase(client, 1, 1, texts.Take(50).ToList());
            var alone = Phase(client, 1, passes, texts);
            var loaded = Phase(client, clients, passes, texts);
            Print("1 client (baseline)", alone);
            Print($"{clients} clients", loaded);
            Console.WriteLine($"  ratio {clients} clients / 1: throughput {loaded.PerSecond / alone.PerSecond:F2}x, p50 latency {loaded.P50 / alone.P50:F2}x");
            return 0;
        }
        finally
        {
            // SIGTERM: a graceful stop, as systemd would.
            Process.Start("kill", ["-TERM", server.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
            if (!server.WaitForExit(TimeSpan.FromMinutes(2)))
            {
                server.Kill(entireProcessTree: true);
            }
            try
            {
                Directory.Delete(outDirectory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private sealed record PhaseResult(int Requests, double PerSecond, double P50, double P99, int Errors);

    private static void Print(string label, PhaseResult result) =>
        Console.WriteLine($"  {label,-20} {result.Requests,6} requests  {result.PerSecond,8:F1} req/s  p50 {result.P50,7:F1} ms  p99 {result.P99,7:F1} ms  errors {result.Errors}");

    // Every text `passes` times, handed out in order to whichever client is free.
    private static PhaseResult Phase(HttpClient client, int clients, int passes, IReadOnlyList<string> texts)
    {
        var latencies = new List<double>();
        var errors = 0;
        var total = passes * texts.Count;
        var next = -1;
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            var mine = new List<double>();
            var failed = 0;
            for (var i = Interlocked.Increment(ref next); i < total; i = Interlocked.Increment(ref next))
            {
                var clock = Stopwatch.StartNew();
                using var response = await client.PostAsJsonAsync("/api/predict", new { text = texts[i % texts.Count] });
                await response.Content.ReadAsByteArrayAsync();
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    mine.Add(clock.Elapsed.TotalMilliseconds);
                }
                else
                {
                    failed++;
                }
            }
            lock (latencies)
            {
                latencies.AddRange(mine);
                errors += failed;
            }
        })).ToArray();
        Task.WaitAll(workers);
        var elapsed = clock.Elapsed.TotalSeconds;
        latencies.Sort();
        double Percentile(double p) => latencies.Count == 0 ? double.NaN : latencies[Math.Min(latencies.Count - 1, (int)Math.Ceiling(p * latencies.Count) - 1)];
        return new PhaseResult(latencies.Count, latencies.Count / elapsed, Percentile(0.50), Percentile(0.99), errors);
    }

    private static bool WaitUntilServing(HttpClient client, string text, TimeSpan timeout)
    {
        for (var clock = Stopwatch.StartNew(); clock.Elapsed < timeout; Thread.Sleep(500))
        {
            try
            {
                using var response = client.PostAsJsonAsync("/api/predict", new { text }).GetAwaiter().GetResult();
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return true;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
        }
        return false;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Texts to ask about: the spam task's validation messages, cut to a tweet's length.</summary>
    /// <param name="root">The repository.</param>
    /// <returns>The texts.</returns>
    public static IReadOnlyList<string> SampleTexts(string root) =>
        File.ReadLines(Path.Combine(root, "samples", "data", "spam", "validation.jsonl")).Take(200)
            .Select(line => JsonDocument.Parse(line).RootElement.GetProperty("text").GetString() ?? "")
            .Where(t => t.Length > 0).Select(t => t.Length > 280 ? t[..280] : t).ToList();
}
