using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using MtlHost.Worker;
using Shouldly;
using Xunit;

namespace MtlHost.Tests.Serve;

/// <summary><c>POST /api/predict</c> of a running service: answered from the newest checkpoint, batched, with clear errors.</summary>
public sealed class PredictEndpointTests
{
    [Fact]
    public async Task Predict_answers_from_the_newest_checkpoint_for_every_task_or_one_and_says_why_it_cannot()
    {
        await using var serve = await ServeRun.StartAsync(["Spam", "WordClass"]);

        // No checkpoint yet: 503, and the message says how to get one.
        using (var early = await serve.Client.PostAsJsonAsync("/api/predict", new { text = "free money now" }))
        {
            early.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
            (await early.Content.ReadAsStringAsync()).ShouldContain("POST /api/checkpoint");
        }

        await serve.WaitForStatus(s => s.GetProperty("step").GetInt32() >= 3, "3 steps");
        using var checkpointed = await serve.Control(HttpMethod.Post, "/api/checkpoint");
        checkpointed.StatusCode.ShouldBe(HttpStatusCode.OK);
        var step = JsonDocument.Parse(await checkpointed.Content.ReadAsStringAsync()).RootElement.GetProperty("step").GetInt32();
        await serve.Services.GetRequiredService<CheckpointPredictions>().Idle();

        var all = await Predict(serve, new { text = "WIN a FREE cruise, click here" });
        all.GetProperty("step").GetInt32().ShouldBe(step);
        var tasks = all.GetProperty("tasks").EnumerateArray().ToDictionary(t => t.GetProperty("taskId").GetString()!);
        tasks.Keys.ShouldBe(["spam", "wordclass"], ignoreOrder: true);
        tasks["spam"].GetProperty("label").GetString().ShouldBeOneOf("spam", "ham");
        var scores = tasks["spam"].GetProperty("scores").EnumerateObject().Select(p => p.Value.GetDouble()).ToList();
        scores.Sum().ShouldBe(1.0, 1e-4);

        var one = await Predict(serve, new { text = "river", task = "wordclass" });
        one.GetProperty("tasks").EnumerateArray().Select(t => t.GetProperty("taskId").GetString()).ShouldBe(["wordclass"]);

        using var unknown = await serve.Client.PostAsJsonAsync("/api/predict", new { text = "x", task = "no-such-task" });
        unknown.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await unknown.Content.ReadAsStringAsync()).ShouldContain("no-such-task");
        using var empty = await serve.Client.PostAsJsonAsync("/api/predict", new { text = "" });
        empty.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        using var tooLong = await serve.Client.PostAsJsonAsync("/api/predict", new { text = new string('a', 10_001) });
        tooLong.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await tooLong.Content.ReadAsStringAsync()).ShouldContain("10,000 characters");
    }

    [Fact]
    public async Task Concurrent_requests_are_each_answered_with_their_own_prediction()
    {
        await using var serve = await ServeRun.StartAsync(["Spam"]);
        await serve.WaitForStatus(s => s.GetProperty("step").GetInt32() >= 3, "3 steps");
        (await serve.Control(HttpMethod.Post, "/api/checkpoint")).StatusCode.ShouldBe(HttpStatusCode.OK);
        var predictions = serve.Services.GetRequiredService<CheckpointPredictions>();
        await predictions.Idle();
        var texts = Enumerable.Range(0, 24).Select(i => i % 2 == 0 ? $"meeting notes for tuesday number {i}" : $"CLAIM YOUR PRIZE {i} NOW!!! $$$").ToList();
        var alone = new List<JsonElement>();
        foreach (var text in texts.Take(2))
        {
            alone.Add(await Predict(serve, new { text }));
        }
        var batchesBefore = predictions.Batcher.Batches;

        var together = await Task.WhenAll(texts.Select(text => Predict(serve, new { text })));

        // Each answer is its own text's: the two texts asked alone get the same scores when asked among others.
        for (var i = 0; i < 2; i++)
        {
            var a = alone[i].GetProperty("tasks")[0].GetProperty("scores").GetRawText();
            var b = together[i].GetProperty("tasks")[0].GetProperty("scores");
            foreach (var score in JsonDocument.Parse(a).RootElement.EnumerateObject())
            {
                b.GetProperty(score.Name).GetDouble().ShouldBe(score.Value.GetDouble(), 1e-4);
            }
        }
        // Fewer encoder passes than requests: concurrent requests were batched.
        (predictions.Batcher.Batches - batchesBefore).ShouldBeLessThan(texts.Count);
    }

    private static async Task<JsonElement> Predict(ServeRun serve, object body)
    {
        using var response = await serve.Client.PostAsJsonAsync("/api/predict", body);
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.OK, text);
        return JsonDocument.Parse(text).RootElement.Clone();
    }
}
