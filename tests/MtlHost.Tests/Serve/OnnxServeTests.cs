using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MtlHost.Cli;
using MtlHost.Core.Export.Onnx;
using MtlHost.Deployment;
using MtlHost.Tests.Inference;
using MtlHost.Tests.Infrastructure;
using Shouldly;
using Xunit;

namespace MtlHost.Tests.Serve;

/// <summary>
/// <c>serve --onnx DIR</c>: the training service's <c>POST /api/predict</c> from an ONNX export — answers equal to
/// <c>predict --onnx --json</c>, concurrent requests batched — a status of the export, the training endpoints refused with
/// the reason, no libtorch in the process, and bad input refused with exit code 2 before anything listens.
/// </summary>
[Collection(InferenceCollection.Name)]
public sealed class OnnxServeTests(InferenceCheckpoint checkpoint)
{
    private static readonly (string Text, string? Pair)[] Inputs =
    [
        ("Win a FREE prize now, click here", null),
        ("the quick brown fox jumps over the lazy dog", "a dog sleeps"),
        ("running", null),
        ("Café naïve résumé Zürich", null),
    ];

    [Fact]
    public async Task Predict_answers_as_predict_onnx_json_for_single_and_concurrent_requests()
    {
        var export = Export("none");
        await using var serve = await StartAsync(export);
        using var client = new HttpClient { BaseAddress = new Uri(serve.Urls[0]) };

        var expected = Inputs.Select(i => PredictOnnxJson(export, i.Text, i.Pair)).ToList();
        var alone = new List<JsonElement>();
        foreach (var (text, pair) in Inputs)
        {
            alone.Add(await Predict(client, new { text, pair }));
        }
        var batchesBefore = serve.Batcher.Batches;
        // Many of each, at once: the batcher puts them into shared batches of texts of different lengths.
        var requests = Enumerable.Range(0, 32).Select(i => Inputs[i % Inputs.Length]).ToList();
        var together = await Task.WhenAll(requests.Select(i => Predict(client, new { text = i.Text, pair = i.Pair })));

        for (var i = 0; i < Inputs.Length; i++)
        {
            // Alone, a request runs as predict runs it (one text, same threads): the same values to the last digit.
            ShouldBeEquivalent(alone[i], Response(expected[i]), 0, Inputs[i].Text);
        }
        for (var i = 0; i < requests.Count; i++)
        {
            // Padded among longer texts, scores may differ in the last float bits, which rounding to six digits can show.
            ShouldBeEquivalent(together[i], Response(expected[i % Inputs.Length]), 1e-5, requests[i].Text);
        }
        (serve.Batcher.Batches - batchesBefore).ShouldBeLessThan(requests.Count, "concurrent requests share batches");
        alone[1].GetProperty("tasks").EnumerateArray().Select(t => t.GetProperty("taskId").GetString()).ShouldContain("pairs");
        alone[0].GetProperty("notes").EnumerateArray().ShouldHaveSingleItem().GetString()!.ShouldContain("task 'pairs' skipped");

        var one = await Predict(client, new { text = "river", task = "wordclass" });
        one.GetProperty("tasks").EnumerateArray().Select(t => t.GetProperty("taskId").GetString()).ShouldBe(["wordclass"]);
    }

    [Fact]
    public async Task Status_describes_the_export_bad_requests_are_400_and_training_endpoints_404_with_the_reason()
    {
        var export = Export("int8");
        await using var serve = await StartAsync(export);
        using var client = new HttpClient { BaseAddress = new Uri(serve.Urls[0]) };

        var status = JsonDocument.Parse(await client.GetStringAsync("/api/status")).RootElement;
        status.GetProperty("state").GetString().ShouldBe(ExportStatusView.Serving);
        status.GetProperty("model").GetString().ShouldBe(export);
        status.GetProperty("quantization").GetString().ShouldBe("int8");
        status.GetProperty("step").GetInt32().ShouldBe(4);
        status.GetProperty("encoder").GetString().ShouldBe("tiny");
        status.GetProperty("tasks").EnumerateArray().Select(t => t.GetProperty("id").GetString()).ShouldBe(InferenceCheckpoint.TaskIds);
        status.GetProperty("tasks").EnumerateArray().First(t => t.GetProperty("id").GetString() == "spam").GetProperty("labels").GetArrayLength().ShouldBe(2);

        using (var unknown = await client.PostAsJsonAsync("/api/predict", new { text = "x", task = "no-such-task" }))
        {
            unknown.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
            (await unknown.Content.ReadAsStringAsync()).ShouldContain("Unknown task 'no-such-task'; the export's tasks are pairs, pos-tagging");
        }
        using (var empty = await client.PostAsJsonAsync("/api/predict", new { text = " " }))
        {
            empty.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
            (await empty.Content.ReadAsStringAsync()).ShouldContain("Give the text to predict on");
        }
        using (var pairless = await client.PostAsJsonAsync("/api/predict", new { text = "a cat", task = "pairs" }))
        {
            pairless.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
            (await pairless.Content.ReadAsStringAsync()).ShouldContain("needs a second text");
        }
        foreach (var (method, pattern) in ExportEndpoints.TrainingOnly)
        {
            using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), "/api" + pattern.Replace("{id}", "spam")));
            response.StatusCode.ShouldBe(HttpStatusCode.NotFound, $"{method} {pattern}");
            (await response.Content.ReadAsStringAsync()).ShouldContain("'mtlhost serve --onnx' only predicts from the ONNX export");
        }
        using var page = await client.GetAsync("/");
        page.StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Serve_onnx_in_its_own_process_never_loads_libtorch_and_stops_on_SIGTERM_with_exit_code_0()
    {
        var export = Export("int8");

        // The dynamic loader lists every library it initialises (LD_DEBUG=libs), on standard error.
        using var host = HostProcess.Start(new Dictionary<string, string?> { ["LD_DEBUG"] = "libs" },
            "serve", "--onnx", export, "--urls", "http://127.0.0.1:0", "--threads", "1");
        var line = host.WaitForErrorLine("Serving ONNX export");
        var url = line[line.IndexOf("http://", StringComparison.Ordinal)..].Split(' ')[0];
        using (var client = new HttpClient { BaseAddress = new Uri(url) })
        {
            (await Predict(client, new { text = "running" })).GetProperty("tasks").GetArrayLength().ShouldBeGreaterThan(0);
        }

        host.Terminate();

        host.WaitForExit().ShouldBe(0, host.Error);
        host.Error.ShouldContain("libonnxruntime.so");
        host.Error.ShouldNotContain("libtorch");
        host.Error.ShouldNotContain("LibTorchSharp");
    }

    [Fact]
    public void A_folder_that_is_no_export_or_a_training_option_exits_2_naming_the_fix()
    {
        var missing = Path.Combine(checkpoint.NewFolder(), "nothing-here");
        var absent = HostRun.Of("serve", "--onnx", missing);
        absent.ExitCode.ShouldBe(2);
        absent.Error.ShouldContain($"'{missing}' does not exist");
        absent.Error.ShouldContain("mtlhost export --format onnx");

        // A checkpoint is a folder, but not an export.
        var notExport = HostRun.Of("serve", "--onnx", checkpoint.Checkpoint);
        notExport.ExitCode.ShouldBe(2);
        notExport.Error.ShouldContain($"'{checkpoint.Checkpoint}' has no mtlhost-onnx.json: it is not an ONNX export");
        notExport.Error.ShouldContain("mtlhost export --format onnx");

        var training = HostRun.Of("serve", "--onnx", Export("none"), "--steps", "5", "--plugins", checkpoint.Plugins);
        training.ExitCode.ShouldBe(2);
        training.Error.ShouldContain("--plugins, --steps do not apply; it takes --urls, --threads, --config only");
    }

    [Fact]
    public void Started_by_mpirun_it_exits_2_rather_than_serve_once_per_process()
    {
        // What mpirun -np 2 sets in each process; the check comes before anything listens or loads MPI.
        using var host = HostProcess.Start(new Dictionary<string, string?> { ["OMPI_COMM_WORLD_SIZE"] = "2", ["OMPI_COMM_WORLD_RANK"] = "0" },
            "serve", "--onnx", Export("none"), "--urls", "http://127.0.0.1:0");
        host.WaitForExit().ShouldBe(2, host.Error);
        host.Error.ShouldContain("serve --onnx is one process; start it without mpirun");
    }

    private static async Task<OnnxServeHost> StartAsync(string export)
    {
        var host = OnnxServeHost.Create(CommandLine.Parse(["serve", "--onnx", export, "--urls", "http://127.0.0.1:0", "--threads", "1"]));
        await host.StartAsync();
        return host;
    }

    private string Export(string quantization)
    {
        var export = Path.Combine(checkpoint.NewFolder(), "onnx");
        OnnxCheckpointExporter.Export(checkpoint.Checkpoint, export, quantization).NotExported.ShouldBeEmpty();
        return export;
    }

    private static JsonElement PredictOnnxJson(string export, string text, string? pair)
    {
        var run = HostRun.Of(["predict", "--onnx", export, "--text", text, "--threads", "1", "--json", .. pair is null ? Array.Empty<string>() : ["--pair", pair]]);
        run.ExitCode.ShouldBe(0, run.Error);
        return run.Json.Clone();
    }

    // What predict --json prints of the response itself: step, tasks, notes (the rest says what was predicted with).
    private static JsonElement Response(JsonElement predictJson) =>
        JsonSerializer.SerializeToElement(new
        {
            step = predictJson.GetProperty("step"),
            tasks = predictJson.GetProperty("tasks"),
            notes = predictJson.GetProperty("notes"),
        });

    private static async Task<JsonElement> Predict(HttpClient client, object body)
    {
        using var response = await client.PostAsJsonAsync("/api/predict", body);
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.OK, text);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    // The same JSON value: the same properties, items and strings (whatever the escaping), numbers within the tolerance.
    private static void ShouldBeEquivalent(JsonElement actual, JsonElement expected, double tolerance, string path)
    {
        actual.ValueKind.ShouldBe(expected.ValueKind, path);
        switch (expected.ValueKind)
        {
            case JsonValueKind.Object:
                actual.EnumerateObject().Select(p => p.Name).ShouldBe(expected.EnumerateObject().Select(p => p.Name), ignoreOrder: true, path);
                foreach (var property in expected.EnumerateObject())
                {
                    ShouldBeEquivalent(actual.GetProperty(property.Name), property.Value, tolerance, $"{path}.{property.Name}");
                }
                break;
            case JsonValueKind.Array:
                actual.GetArrayLength().ShouldBe(expected.GetArrayLength(), path);
                foreach (var (item, index) in expected.EnumerateArray().Select((e, i) => (e, i)))
                {
                    ShouldBeEquivalent(actual[index], item, tolerance, $"{path}[{index}]");
                }
                break;
            case JsonValueKind.Number:
                actual.GetDouble().ShouldBe(expected.GetDouble(), tolerance, path);
                break;
            case JsonValueKind.String:
                actual.GetString().ShouldBe(expected.GetString(), path);
                break;
        }
    }
}
