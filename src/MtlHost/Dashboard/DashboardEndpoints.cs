using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using MtlHost.Worker;

namespace MtlHost.Dashboard;

/// <summary>
/// The dashboard page and its API. Reads (<c>GET /</c>, <c>GET /api/status</c>, <c>GET /api/metrics</c>) and predictions
/// (<c>POST /api/predict</c>) are open;
/// controls (<c>POST /api/pause</c>, <c>/api/resume</c>, <c>/api/checkpoint</c>, <c>DELETE /api/tasks/{id}</c>) need the
/// bearer token of <see cref="DashboardOptions"/>.
/// </summary>
public static class DashboardEndpoints
{
    /// <summary>Name of the page, embedded in the assembly.</summary>
    public const string PageResource = "MtlHost.Dashboard.dashboard.html";

    private static readonly Lazy<byte[]> Page = new(() =>
    {
        using var stream = typeof(DashboardEndpoints).Assembly.GetManifestResourceStream(PageResource)
            ?? throw new InvalidOperationException($"The dashboard page {PageResource} is not embedded in the assembly.");
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        return memory.ToArray();
    });

    /// <summary>Maps the page and the API.</summary>
    /// <param name="endpoints">The web application.</param>
    /// <param name="options">The dashboard settings (the token).</param>
    /// <returns><paramref name="endpoints"/>.</returns>
    public static IEndpointRouteBuilder MapDashboard(this IEndpointRouteBuilder endpoints, DashboardOptions options)
    {
        endpoints.MapGet("/", () => Results.Bytes(Page.Value, "text/html; charset=utf-8"));

        var read = endpoints.MapGroup("/api");
        read.MapGet("/status", (RunMonitor monitor) => Results.Json(monitor.Status()));
        read.MapGet("/metrics", (RunMonitor monitor, string? since) =>
        {
            int? from = null;
            if (!string.IsNullOrEmpty(since))
            {
                if (!int.TryParse(since, NumberStyles.None, CultureInfo.InvariantCulture, out var step))
                {
                    return Results.Json(new { error = $"since must be a step number, not '{since}'." }, statusCode: StatusCodes.Status400BadRequest);
                }
                from = step;
            }
            return Results.Json(monitor.Metrics(from));
        });

        var control = endpoints.MapGroup("/api").AddEndpointFilter(new BearerTokenFilter(options));
        control.MapPost("/pause", (TrainingControl training, RunMonitor monitor) =>
        {
            training.Pause();
            return Results.Json(new { paused = true, step = monitor.Step });
        });
        control.MapPost("/resume", (TrainingControl training, RunMonitor monitor) =>
        {
            training.Resume();
            return Results.Json(new { paused = false, step = monitor.Step });
        });
        control.MapPost("/checkpoint", async (TrainingControl training, CancellationToken aborted) =>
            await Control(async () => Results.Json(await training.CheckpointAsync(aborted))));
        control.MapDelete("/tasks/{id}", async (string id, TrainingControl training, RunMonitor monitor, CancellationToken aborted) =>
            await Control(async () => await training.RemoveTaskAsync(id, aborted) switch
            {
                TaskRemoval.Removed => Results.Json(new { removed = id, step = monitor.Step }),
                TaskRemoval.LastTask => Results.Json(new { error = $"'{id}' is the last task training; a run needs one. Drop another plugin in first, " +
                                                                  "or stop the service to end the run." }, statusCode: StatusCodes.Status409Conflict),
                _ => Results.Json(new { error = $"No task '{id}' is in the run; GET /api/status lists the tasks." }, statusCode: StatusCodes.Status404NotFound),
            }));

        // Answered from the newest checkpoint, batched with concurrent requests.
        read.MapPredict(services => services.GetRequiredService<CheckpointPredictions>().Batcher, " POST /api/checkpoint writes one now.");
        return endpoints;
    }

    // A control request the run cannot take now is a conflict, not a server error.
    private static async Task<IResult> Control(Func<Task<IResult>> action)
    {
        try
        {
            return await action();
        }
        catch (RunNotActiveException e)
        {
            return Results.Json(new { error = e.Message }, statusCode: StatusCodes.Status409Conflict);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            return Results.Json(new { error = $"{e.GetType().Name}: {e.Message}" }, statusCode: StatusCodes.Status500InternalServerError);
        }
    }
}
