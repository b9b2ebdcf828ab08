using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using MtlHost.Core.Inference;
using MtlHost.Inference;

namespace MtlHost.Dashboard;

/// <summary>
/// <c>POST /api/predict</c>: one contract for both services that answer it, the training <c>serve</c> (from its newest
/// checkpoint) and <c>serve --onnx</c> (from an export). The body is a <see cref="PredictRequest"/>; the answer is a
/// <see cref="PredictionResponse"/>, batched with concurrent requests by a <see cref="PredictionBatcher"/>; an empty or
/// too long text and an unknown task are 400 with the reason, no model to predict with (yet) or a full queue 503.
/// </summary>
public static class PredictEndpoint
{
    /// <summary>Longest text (with its pair) the endpoint takes, in characters.</summary>
    public const int MaxTextLength = 10_000;

    /// <summary>Maps <c>POST {group}/predict</c>.</summary>
    /// <param name="api">The <c>/api</c> group.</param>
    /// <param name="batcherOf">The batcher that answers, from the request's services.</param>
    /// <param name="unavailableHint">Appended to a 503's message: what brings a model (the training serve: write a checkpoint).</param>
    /// <returns>The endpoint.</returns>
    public static RouteHandlerBuilder MapPredict(this IEndpointRouteBuilder api, Func<IServiceProvider, PredictionBatcher> batcherOf, string? unavailableHint = null) =>
        // Open like the reads: a prediction changes nothing.
        api.MapPost("/predict", async (PredictRequest request, HttpContext context, CancellationToken aborted) =>
        {
            if (string.IsNullOrWhiteSpace(request.Text))
            {
                return Results.Json(new { error = "Give the text to predict on: {\"text\": \"...\"} (and \"pair\" for pair tasks, \"task\" for one task)." },
                    statusCode: StatusCodes.Status400BadRequest);
            }
            if (request.Text.Length + (request.Pair?.Length ?? 0) > MaxTextLength)
            {
                // The encoder reads at most a few hundred tokens; a longer text only costs tokenizing time on an open endpoint.
                return Results.Json(new { error = $"The text is longer than {MaxTextLength:N0} characters; send a shorter one." },
                    statusCode: StatusCodes.Status400BadRequest);
            }
            try
            {
                var batcher = batcherOf(context.RequestServices);
                return Results.Json(await batcher.PredictAsync(new PredictionInput(request.Text, request.Pair), request.Task, aborted));
            }
            catch (PredictionUnavailableException e)
            {
                return Results.Json(new { error = e.Message + unavailableHint }, statusCode: StatusCodes.Status503ServiceUnavailable);
            }
            catch (ArgumentException e)
            {
                return Results.Json(new { error = e.Message }, statusCode: StatusCodes.Status400BadRequest);
            }
        });
}
