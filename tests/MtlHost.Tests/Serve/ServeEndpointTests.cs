using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using MtlHost.Tests.Infrastructure;
using MtlHost.Worker;
using Shouldly;
using Xunit;

namespace MtlHost.Tests.Serve;

/// <summary>The API of <c>mtlhost serve</c> against the real server: reads, the token on controls, pause, checkpoint, task removal, stop.</summary>
public sealed class ServeEndpointTests
{
    private static readonly string[] TwoPlugins = ["Spam", "WordClass"];

    [Fact]
    public async Task Status_and_metrics_show_every_task_with_its_curves()
    {
        await using var serve = await ServeRun.StartAsync(TwoPlugins);

        var status = await serve.WaitForStatus(s => s.GetProperty("step").GetInt32() >= 25, "25 steps");
        status.GetProperty("state").GetString().ShouldBe("Training");
        status.GetProperty("paused").GetBoolean().ShouldBeFalse();
        status.GetProperty("totalSteps").ValueKind.ShouldBe(JsonValueKind.Null, "serve without --steps trains until stopped");
        status.GetProperty("memory").GetProperty("workingSetBytes").GetInt64().ShouldBeGreaterThan(0);
        var tasks = status.GetProperty("tasks").EnumerateArray().ToDictionary(t => t.GetProperty("id").GetString()!);
        tasks.Keys.ShouldBe(["spam", "wordclass"], ignoreOrder: true);
        tasks["spam"].GetProperty("plugin").GetString().ShouldBe("Spam");
        tasks["spam"].GetProperty("state").GetString().ShouldBe("Training");
        tasks["spam"].GetProperty("primaryMetric").GetString().ShouldBe("macro_f1");
        status.GetProperty("plugins").EnumerateArray().Select(p => p.GetProperty("state").GetString()).ShouldAllBe(s => s == "Training");
        status.GetProperty("events").EnumerateArray().Count(e => e.GetProperty("kind").GetString() == "Added").ShouldBe(2);

        var metrics = await serve.Get("/api/metrics");
        foreach (var task in metrics.GetProperty("tasks").EnumerateArray())
        {
            var loss = task.GetProperty("loss").EnumerateArray().ToList();
            loss.Count.ShouldBeGreaterThan(1, task.GetProperty("id").GetString());
            loss.Select(p => p[0].GetDouble()).ShouldBeInOrder(SortDirection.Ascending);
            loss.ShouldAllBe(p => double.IsFinite(p[1].GetDouble()));
            task.GetProperty("scores").GetArrayLength().ShouldBeGreaterThan(0, "serve evaluates every --eval-every steps");
            task.GetProperty("metric").GetString().ShouldBe("macro_f1");
        }
        var since = metrics.GetProperty("step").GetInt32();
        var later = await serve.Get($"/api/metrics?since={since}");
        later.GetProperty("tasks").EnumerateArray().SelectMany(t => t.GetProperty("loss").EnumerateArray())
            .ShouldAllBe(p => p[0].GetDouble() > since);
        using var bad = await serve.Client.GetAsync("/api/metrics?since=yesterday");
        bad.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Without_a_configured_token_control_endpoints_answer_401_and_say_how_to_set_one()
    {
        await using var serve = await ServeRun.StartAsync(["Spam"], withToken: false);

        using var response = await serve.Control(HttpMethod.Post, "/api/pause", token: "anything-at-all-long-enough");

        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await response.Content.ReadAsStringAsync()).ShouldContain("Dashboard:Token");
        (await serve.Status()).GetProperty("paused").GetBoolean().ShouldBeFalse();
    }

    [Fact]
    public async Task Control_endpoints_answer_401_without_the_token_or_with_a_wrong_one()
    {
        await using var serve = await ServeRun.StartAsync(["Spam"]);
        await serve.WaitForStatus(s => s.GetProperty("step").GetInt32() >= 1, "the first step");

        foreach (var (method, path) in new[] { (HttpMethod.Post, "/api/pause"), (HttpMethod.Post, "/api/resume"), (HttpMethod.Post, "/api/checkpoint"),
                     (HttpMethod.Delete, "/api/tasks/spam") })
        {
            using var none = await serve.Control(method, path, token: null);
            none.StatusCode.ShouldBe(HttpStatusCode.Unauthorized, $"{method} {path} without a token");
            using var wrong = await serve.Control(method, path, token: ServeRun.Token + "x");
            wrong.StatusCode.ShouldBe(HttpStatusCode.Unauthorized, $"{method} {path} with a wrong token");
        }
        var status = await serve.Status();
        status.GetProperty("paused").GetBoolean().ShouldBeFalse();
        status.GetProperty("tasks").EnumerateArray().Single().GetProperty("state").GetString().ShouldBe("Training");

        using var right = await serve.Control(HttpMethod.Post, "/api/pause");
        right.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Pause_holds_training_between_two_steps_and_resume_lets_it_go_on()
    {
        await using var serve = await ServeRun.StartAsync(TwoPlugins);
        await serve.WaitForStatus(s => s.GetProperty("step").GetInt32() >= 5, "5 steps");

        (await serve.Control(HttpMethod.Post, "/api/pause")).StatusCode.ShouldBe(HttpStatusCode.OK);
        // Each checkpoint runs on the training thread at a step boundary: two of them with the same step prove that no step
        // ran between two visits of the paused thread.
        var first = await Checkpoint(serve);
        var second = await Checkpoint(serve);
        second.GetProperty("step").GetInt32().ShouldBe(first.GetProperty("step").GetInt32());
        var paused = await serve.Status();
        paused.GetProperty("paused").GetBoolean().ShouldBeTrue();
        paused.GetProperty("step").GetInt32().ShouldBe(first.GetProperty("step").GetInt32());

        (await serve.Control(HttpMethod.Post, "/api/resume")).StatusCode.ShouldBe(HttpStatusCode.OK);
        var pausedAt = first.GetProperty("step").GetInt32();
        await serve.WaitForStatus(s => s.GetProperty("step").GetInt32() > pausedAt + 3 && !s.GetProperty("paused").GetBoolean(), "steps after resume");
    }

    [Fact]
    public async Task The_checkpoint_endpoint_writes_a_checkpoint_and_reports_it()
    {
        await using var serve = await ServeRun.StartAsync(TwoPlugins);
        await serve.WaitForStatus(s => s.GetProperty("step").GetInt32() >= 3, "3 steps");

        var checkpoint = await Checkpoint(serve);

        var path = checkpoint.GetProperty("path").GetString()!;
        path.ShouldStartWith(serve.OutDirectory);
        File.Exists(Path.Combine(path, "manifest.json")).ShouldBeTrue();
        var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(path, "manifest.json"))).RootElement;
        manifest.GetProperty("tasks").EnumerateArray().Select(t => t.GetProperty("id").GetString()).ShouldBe(["spam", "wordclass"], ignoreOrder: true);
        var status = await serve.Status();
        status.GetProperty("lastCheckpoint").GetProperty("path").GetString().ShouldBe(path);
        status.GetProperty("lastCheckpoint").GetProperty("step").GetInt32().ShouldBe(checkpoint.GetProperty("step").GetInt32());
    }

    [Fact]
    public async Task Deleting_a_task_takes_it_out_of_the_run_and_an_unknown_task_is_404()
    {
        await using var serve = await ServeRun.StartAsync(TwoPlugins);
        await serve.WaitForStatus(s => s.GetProperty("step").GetInt32() >= 3, "3 steps");

        using var removed = await serve.Control(HttpMethod.Delete, "/api/tasks/spam");
        removed.StatusCode.ShouldBe(HttpStatusCode.OK, await removed.Content.ReadAsStringAsync());

        var status = await serve.Status();
        var tasks = status.GetProperty("tasks").EnumerateArray().ToDictionary(t => t.GetProperty("id").GetString()!, t => t.GetProperty("state").GetString());
        tasks["spam"].ShouldBe("Removed");
        tasks["wordclass"].ShouldBe("Training");
        var plugin = status.GetProperty("plugins").EnumerateArray().Single(p => p.GetProperty("name").GetString() == "Spam");
        plugin.GetProperty("state").GetString().ShouldBe("Removed");
        plugin.GetProperty("reason").GetString()!.ShouldContain("copy the plugin");
        status.GetProperty("events").EnumerateArray().ShouldContain(e => e.GetProperty("kind").GetString() == "Removed" && e.GetProperty("taskId").GetString() == "spam");
        var steps = status.GetProperty("step").GetInt32();
        await serve.WaitForStatus(s => s.GetProperty("step").GetInt32() > steps + 5, "steps after the removal");
        var spamSteps = (await serve.Status()).GetProperty("tasks").EnumerateArray().Single(t => t.GetProperty("id").GetString() == "spam")
            .GetProperty("stepsTrained").GetInt32();
        spamSteps.ShouldBe(status.GetProperty("tasks").EnumerateArray().Single(t => t.GetProperty("id").GetString() == "spam").GetProperty("stepsTrained").GetInt32());

        using var again = await serve.Control(HttpMethod.Delete, "/api/tasks/spam");
        again.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        using var unknown = await serve.Control(HttpMethod.Delete, "/api/tasks/no-such-task");
        unknown.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await unknown.Content.ReadAsStringAsync()).ShouldContain("no-such-task");
    }

    [Fact]
    public async Task A_stop_finishes_the_step_writes_the_checkpoint_and_summary_and_leaves_exit_code_0_even_while_paused()
    {
        await using var serve = await ServeRun.StartAsync(TwoPlugins);
        await serve.WaitForStatus(s => s.GetProperty("step").GetInt32() >= 3, "3 steps");
        (await serve.Control(HttpMethod.Post, "/api/pause")).StatusCode.ShouldBe(HttpStatusCode.OK);
        await Checkpoint(serve); // the training thread is now waiting at the step boundary

        await serve.StopAsync();

        serve.ExitCode.ShouldBe(0);
        var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(serve.OutDirectory, "summary.json"))).RootElement;
        summary.GetProperty("steps").GetInt32().ShouldBeGreaterThanOrEqualTo(3);
        File.Exists(Path.Combine(summary.GetProperty("checkpoint").GetString()!, "manifest.json")).ShouldBeTrue();
    }

    [Fact]
    public async Task The_last_task_training_cannot_be_deleted_and_the_run_goes_on()
    {
        await using var serve = await ServeRun.StartAsync(["Spam"]);
        await serve.WaitForStatus(s => s.GetProperty("step").GetInt32() >= 3, "3 steps");

        using var refused = await serve.Control(HttpMethod.Delete, "/api/tasks/spam");

        refused.StatusCode.ShouldBe(HttpStatusCode.Conflict);
        (await refused.Content.ReadAsStringAsync()).ShouldContain("last task");
        var step = (await serve.Status()).GetProperty("step").GetInt32();
        var later = await serve.WaitForStatus(s => s.GetProperty("step").GetInt32() > step + 3, "steps after the refused removal");
        later.GetProperty("state").GetString().ShouldBe("Training");
    }

    [Fact]
    public async Task A_restart_with_the_same_run_folder_resumes_from_the_latest_checkpoint_and_trains_on()
    {
        await using var first = await ServeRun.StartAsync(TwoPlugins, true, "--checkpoint-every", "5");
        // The periodic checkpoints show on the status as they are written, not only the ones asked for.
        var before = await first.WaitForStatus(s => s.GetProperty("lastCheckpoint").ValueKind == JsonValueKind.Object &&
                                                    s.GetProperty("lastCheckpoint").GetProperty("step").GetInt32() >= 10, "a periodic checkpoint at step 10");
        before.GetProperty("lastCheckpoint").GetProperty("path").GetString()!.ShouldContain(Path.Combine("checkpoints", "step-"));

        // No periodic checkpoint soon after the restart: the last checkpoint the status shows is the one it resumed from.
        await using var second = await first.RestartAsync("--checkpoint-every", "100000");

        first.ExitCode.ShouldBe(0);
        var stoppedAt = JsonDocument.Parse(File.ReadAllText(Path.Combine(first.OutDirectory, "summary.json"))).RootElement.GetProperty("steps").GetInt32();
        // Continuous training has no step budget: the resumed run must go on training, not take the checkpoint for a finished run.
        var resumed = await second.WaitForStatus(s => s.GetProperty("step").GetInt32() > stoppedAt + 5, $"steps beyond {stoppedAt} after the restart");
        resumed.GetProperty("state").GetString().ShouldBe("Training");
        resumed.GetProperty("lastCheckpoint").ValueKind.ShouldBe(JsonValueKind.Object, "the checkpoint it resumed from is its last checkpoint");
        resumed.GetProperty("lastCheckpoint").GetProperty("step").GetInt32().ShouldBe(stoppedAt);
        // Predictions come from the checkpoint it resumed from until it writes a newer one.
        await second.Services.GetRequiredService<CheckpointPredictions>().Idle();
        using var predicted = await second.Client.PostAsJsonAsync("/api/predict", new { text = "free money" });
        predicted.StatusCode.ShouldBe(HttpStatusCode.OK, await predicted.Content.ReadAsStringAsync());
        JsonDocument.Parse(await predicted.Content.ReadAsStringAsync()).RootElement.GetProperty("step").GetInt32().ShouldBe(stoppedAt);
        resumed.GetProperty("tasks").EnumerateArray().Single(t => t.GetProperty("id").GetString() == "spam").GetProperty("stepsTrained").GetInt32()
            .ShouldBeGreaterThan(0);
    }

    [Theory]
    [InlineData(new[] { "--urls", "ftp://127.0.0.1:21" }, "--urls (Serve:Urls) 'ftp://127.0.0.1:21' is not a URL to listen on")]
    [InlineData(new[] { "--urls", "127.0.0.1" }, "--urls (Serve:Urls) '127.0.0.1' is not a URL to listen on")]
    [InlineData(new[] { "--lr", "-1" }, "--lr must not be negative")]
    [InlineData(new[] { "--single-task" }, "unknown option --single-task")]
    [InlineData(new[] { "--plugins", "/no/such/plugins/folder" }, "Plugins folder '/no/such/plugins/folder' does not exist")]
    public void A_bad_option_stops_start_up_with_exit_code_2_and_one_message(string[] options, string expected)
    {
        using var run = new TemporaryDirectory();
        string[] plugins = options.Contains("--plugins") ? [] : ["--plugins", RepositoryPaths.SamplePlugins];
        var result = HostRun.Of(["serve", "--encoder", "tiny", "--out", run.Path, .. plugins, .. options]);

        result.ExitCode.ShouldBe(2, result.Error);
        result.Error.ShouldContain(expected);
        result.Error.Trim().Split('\n').Length.ShouldBe(1, result.Error);
    }

    [Fact]
    public void A_bad_setting_from_the_settings_file_stops_start_up_with_exit_code_2()
    {
        using var run = new TemporaryDirectory();
        var settings = run.Combine("settings.json");
        File.WriteAllText(settings, """{ "Dashboard": { "Token": "short" }, "Serve": { "ShutdownTimeoutSeconds": 60 } }""");

        var result = HostRun.Of("serve", "--config", settings, "--encoder", "tiny", "--plugins", RepositoryPaths.SamplePlugins, "--out", run.Path);

        result.ExitCode.ShouldBe(2, result.Error);
        result.Error.ShouldContain("Dashboard:Token has 5 characters; use at least 16");
        File.WriteAllText(settings, """{ "Serve": { "ShutdownTimeoutSeconds": "soon" } }""");
        var timeout = HostRun.Of("serve", "--config", settings, "--encoder", "tiny", "--plugins", RepositoryPaths.SamplePlugins, "--out", run.Path);
        timeout.ExitCode.ShouldBe(2, timeout.Error);
        timeout.Error.ShouldContain("Serve:ShutdownTimeoutSeconds 'soon'");
    }

    [Fact]
    public void An_address_already_in_use_stops_start_up_with_exit_code_2_and_says_so()
    {
        using var taken = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        using var run = new TemporaryDirectory();

        var result = HostRun.Of("serve", "--encoder", "tiny", "--plugins", RepositoryPaths.SamplePlugins, "--out", run.Path, "--urls", $"http://127.0.0.1:{port}");

        result.ExitCode.ShouldBe(2, result.Error);
        result.Error.ShouldContain($"http://127.0.0.1:{port}: cannot listen");
        Directory.Exists(Path.Combine(run.Path, "checkpoint")).ShouldBeFalse("nothing trains when the service cannot listen");
    }

    [Fact]
    public void A_plugins_folder_with_no_plugin_stops_the_service_with_exit_code_2()
    {
        using var plugins = new TemporaryDirectory();
        using var run = new TemporaryDirectory();

        var result = HostRun.Of("serve", "--encoder", "tiny", "--plugins", plugins.Path, "--out", run.Path, "--urls", "http://127.0.0.1:0");

        result.ExitCode.ShouldBe(2, result.Error);
        result.Error.ShouldContain("holds no plugin");
    }

    private static async Task<JsonElement> Checkpoint(ServeRun serve)
    {
        using var response = await serve.Control(HttpMethod.Post, "/api/checkpoint");
        var body = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.OK, body);
        return JsonDocument.Parse(body).RootElement.Clone();
    }
}
