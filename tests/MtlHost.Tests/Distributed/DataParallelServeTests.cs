using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using MtlHost.Tests.Infrastructure;
using Shouldly;
using Xunit;

namespace MtlHost.Tests.Distributed;

/// <summary>
/// <c>mpirun -np 2 mtlhost serve</c>: rank 0 alone runs the web server, rank 1 trains as its worker with no listening
/// socket, and every control of the dashboard (task removal, pause, checkpoint, resume, stop while paused) is carried out
/// by both ranks at the same step boundary — the ranks end with the same weights, bit for bit, and both exit 0.
/// </summary>
[Collection(MpiRunCollection.Name)]
public sealed class DataParallelServeTests : IDisposable
{
    private const string Token = "mpi-serve-tests-token-0123456789";
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(3);
    private readonly TemporaryDirectory _plugins = new();
    private readonly TemporaryDirectory _runs = new();

    public void Dispose()
    {
        _plugins.Dispose();
        _runs.Dispose();
    }

    [Fact]
    public async Task Serve_under_two_processes_serves_from_rank_0_and_both_ranks_follow_every_control()
    {
        _plugins.CopyPlugin(Path.Combine(RepositoryPaths.SamplePlugins, "Spam"));
        _plugins.CopyPlugin(Path.Combine(RepositoryPaths.SamplePlugins, "WordClass"));
        var settings = _runs.Combine("settings.json");
        File.WriteAllText(settings, JsonSerializer.Serialize(new { Dashboard = new { Token } }));
        var run = _runs.Combine("serve");
        using var mpirun = MpiRunProcess.Start(2, Serve(settings, run));

        var line = WaitForLine(mpirun, "Dashboard: ");
        var url = line[line.IndexOf("http://", StringComparison.Ordinal)..].Split(' ')[0];
        using var client = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromMinutes(1) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);

        // One web server: rank 0 listens on the dashboard's port, rank 1 on nothing.
        var port = new Uri(url).Port;
        ListeningPorts(mpirun.RankProcessId(0, 2)).ShouldContain(port);
        ListeningPorts(mpirun.RankProcessId(1, 2)).ShouldBeEmpty();
        Count(mpirun.Output, "Dashboard: ").ShouldBe(1, mpirun.Output);

        await WaitForStatus(client, mpirun, s => Step(s) >= 3, "3 steps");
        using (var removed = await client.DeleteAsync("/api/tasks/spam"))
        {
            removed.StatusCode.ShouldBe(HttpStatusCode.OK, await removed.Content.ReadAsStringAsync());
        }
        var afterRemoval = await Status(client);
        Tasks(afterRemoval)["spam"].ShouldBe("Removed");
        Tasks(afterRemoval)["wordclass"].ShouldBe("Training");

        // Paused, the ranks wait together. A checkpoint is carried out at a step boundary (rank 0 writes it): two with the same
        // step, 2 s apart, prove that no step ran in between.
        (await client.PostAsync("/api/pause", null)).EnsureSuccessStatusCode();
        var pausedAt = await CheckpointStep(client);
        var rank1 = mpirun.RankProcessId(1, 2);
        var cpuBefore = CpuSeconds(rank1);
        await Task.Delay(TimeSpan.FromSeconds(2));
        // Rank 1 sleeps between two exchanges of the pause rather than spinning in the broadcast, which Open MPI does while it waits.
        var pausedCpu = CpuSeconds(rank1) - cpuBefore;
        pausedCpu.ShouldBeLessThan(0.6, $"rank 1 used {pausedCpu:F2} s of CPU in 2 s of pause");
        (await CheckpointStep(client)).ShouldBe(pausedAt);
        var paused = await Status(client);
        paused.GetProperty("paused").GetBoolean().ShouldBeTrue();
        Step(paused).ShouldBe(pausedAt);
        Directory.Exists(Path.Combine(run, "checkpoints", $"step-{pausedAt:D9}")).ShouldBeTrue();

        (await client.PostAsync("/api/resume", null)).EnsureSuccessStatusCode();
        await WaitForStatus(client, mpirun, s => Step(s) > pausedAt + 2, "steps after the resume");

        // Paused again, rank 0 alone is stopped (as systemd stops the service): the stop ends the pause of both ranks.
        (await client.PostAsync("/api/pause", null)).EnsureSuccessStatusCode();
        await CheckpointStep(client);
        mpirun.TerminateRank(0, 2);
        mpirun.WaitForExit(Limit).ShouldBe(0, mpirun.Output);

        // A rank that kept spam (or missed a step, a pause or the removal) would end with other weights, and the run would fail.
        mpirun.Output.ShouldContain("The 2 processes ended with the same weights");
        var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "summary.json"))).RootElement;
        summary.GetProperty("tasks").EnumerateArray().Select(t => t.GetProperty("id").GetString()).ShouldBe(["wordclass"]);
        summary.GetProperty("steps").GetInt32().ShouldBeGreaterThan(pausedAt + 2);
    }

    [Fact]
    public async Task With_a_step_budget_both_ranks_train_to_it_and_rank_0_keeps_answering_predictions_until_stopped()
    {
        _plugins.CopyPlugin(Path.Combine(RepositoryPaths.SamplePlugins, "Spam"));
        var settings = _runs.Combine("settings.json");
        File.WriteAllText(settings, JsonSerializer.Serialize(new { Dashboard = new { Token } }));
        var run = _runs.Combine("budget");
        using var mpirun = MpiRunProcess.Start(2, [.. Serve(settings, run), "--steps", "60"]);

        var line = WaitForLine(mpirun, "Dashboard: ");
        var rank0 = mpirun.RankProcessId(0, 2);
        var rank1 = mpirun.RankProcessId(1, 2);
        var url = line[line.IndexOf("http://", StringComparison.Ordinal)..].Split(' ')[0];
        using var client = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromMinutes(1) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        var finished = await WaitForStatus(client, mpirun, s => s.GetProperty("state").GetString() == "Finished", "the step budget");
        Step(finished).ShouldBe(60);

        // Training is over on both ranks: the worker rank ends; rank 0 still serves predictions from the final checkpoint.
        for (var deadline = DateTime.UtcNow.AddSeconds(30); Directory.Exists($"/proc/{rank1}") && DateTime.UtcNow < deadline;)
        {
            await Task.Delay(100);
        }
        Directory.Exists($"/proc/{rank1}").ShouldBeFalse("rank 1 still runs after the step budget");
        using (var predicted = await client.PostAsJsonAsync("/api/predict", new { text = "WIN a FREE cruise, click here" }))
        {
            predicted.StatusCode.ShouldBe(HttpStatusCode.OK, await predicted.Content.ReadAsStringAsync());
            var answer = JsonDocument.Parse(await predicted.Content.ReadAsStringAsync()).RootElement;
            answer.GetProperty("step").GetInt32().ShouldBe(60);
            answer.GetProperty("tasks").EnumerateArray().Single().GetProperty("label").GetString().ShouldBeOneOf("spam", "ham");
        }
        mpirun.WaitForExit(TimeSpan.Zero).ShouldBeNull(mpirun.Output);

        MpiRunProcess.Terminate(rank0);
        mpirun.WaitForExit(Limit).ShouldBe(0, mpirun.Output);
        mpirun.Output.ShouldContain("The 2 processes ended with the same weights");
        JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "summary.json"))).RootElement.GetProperty("steps").GetInt32().ShouldBe(60);
    }

    [Fact]
    public void A_setting_rank_0_refuses_ends_every_rank_with_its_message()
    {
        _plugins.CopyPlugin(Path.Combine(RepositoryPaths.SamplePlugins, "Spam"));
        // Rank 1 reads no serve settings and waits in the run's first collective: rank 0's refusal must end it too.
        var serve = MpiRun.Run(2, [DotnetCli.Executable, HostProcess.HostAssembly, "serve", "--plugins", _plugins.Path, "--encoder", "tiny",
            "--threads", "1", "--urls", "ftp://127.0.0.1:5080", "--out", _runs.Combine("refused")], Limit);

        serve.ExitCode.ShouldBe(2, serve.Output);
        serve.Output.ShouldContain("mtlhost (rank 0 of 2): --urls (Serve:Urls) 'ftp://127.0.0.1:5080' is not a URL to listen on");
    }

    private static async Task<JsonElement> Status(HttpClient client) =>
        JsonDocument.Parse(await client.GetStringAsync("/api/status")).RootElement.Clone();

    private static async Task<JsonElement> WaitForStatus(HttpClient client, MpiRunProcess mpirun, Func<JsonElement, bool> condition, string what)
    {
        JsonElement status = default;
        for (var deadline = DateTime.UtcNow + Limit; DateTime.UtcNow < deadline; await Task.Delay(200))
        {
            if (mpirun.WaitForExit(TimeSpan.Zero) is { } code)
            {
                throw new InvalidOperationException($"mpirun exited with {code} while waiting for {what}. Output:\n{mpirun.Output}");
            }
            status = await Status(client);
            if (condition(status))
            {
                return status;
            }
        }
        throw new ShouldAssertException($"Waited in vain for {what}; last status: {status}\nOutput:\n{mpirun.Output}");
    }

    private static async Task<int> CheckpointStep(HttpClient client)
    {
        using var response = await client.PostAsync("/api/checkpoint", null);
        var body = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.OK, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("step").GetInt32();
    }

    private static int Step(JsonElement status) => status.GetProperty("step").GetInt32();

    private static Dictionary<string, string?> Tasks(JsonElement status) =>
        status.GetProperty("tasks").EnumerateArray().ToDictionary(t => t.GetProperty("id").GetString()!, t => t.GetProperty("state").GetString());

    private static string WaitForLine(MpiRunProcess mpirun, string text)
    {
        mpirun.WaitForOutput(text);
        return mpirun.Output.Split('\n').First(l => l.Contains(text, StringComparison.Ordinal)).TrimEnd('\r');
    }

    private static int Count(string output, string text) => output.Split('\n').Count(l => l.Contains(text, StringComparison.Ordinal));

    // The TCP ports a process listens on: its socket descriptors, matched to the LISTEN entries of its network namespace.
    private static List<int> ListeningPorts(int pid)
    {
        var sockets = Directory.GetFiles($"/proc/{pid}/fd")
            .Select(fd => new FileInfo(fd).LinkTarget)
            .Where(target => target is not null && target.StartsWith("socket:[", StringComparison.Ordinal))
            .Select(target => target!["socket:[".Length..^1])
            .ToHashSet(StringComparer.Ordinal);
        const string Listen = "0A";
        return new[] { "tcp", "tcp6" }
            .SelectMany(table => File.ReadAllLines($"/proc/{pid}/net/{table}").Skip(1))
            .Select(row => row.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields[3] == Listen && sockets.Contains(fields[9]))
            .Select(fields => int.Parse(fields[1].Split(':')[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture))
            .ToList();
    }

    // User and system CPU time of a process so far (/proc/PID/stat fields 14 and 15, in clock ticks of 1/100 s).
    private static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    private string[] Serve(string settings, string outDirectory) =>
    [
        DotnetCli.Executable, HostProcess.HostAssembly,
        "serve", "--config", settings, "--plugins", _plugins.Path, "--encoder", "tiny", "--batch-size", "4", "--max-length", "32",
        "--threads", "1", "--seed", "5", "--eval-every", "0", "--urls", "http://127.0.0.1:0", "--out", outDirectory,
    ];
}
