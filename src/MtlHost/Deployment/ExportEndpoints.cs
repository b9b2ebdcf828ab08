using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using MtlHost.Dashboard;
using MtlHost.Inference;
using MtlHost.Predictions.Onnx;

namespace MtlHost.Deployment;

/// <summary>
/// The API of <c>serve --onnx</c>: <c>POST /api/predict</c> (the training <c>serve</c>'s contract, <see cref="PredictEndpoint"/>)
/// and <c>GET /api/status</c> (<see cref="ExportStatusView"/>). The training endpoints (<c>GET /api/metrics</c>, the controls)
/// answer 404 saying that this service has no training run, rather than a bare 404 a client could take for a wrong address;
/// the dashboard page (<c>GET /</c>) is not served, since it shows training curves.
/// </summary>
public static class ExportEndpoints
{
    /// <summary>The training service's endpoints that a service of an export answers with 404 and the reason.</summary>
    public static IReadOnlyList<(string Method, string Pattern)> TrainingOnly { get; } =
    [
        ("GET", "/metrics"), ("POST", "/pause"), ("POST", "/resume"), ("POST", "/checkpoint"), ("DELETE", "/tasks/{id}"),
    ];

    /// <summary>Maps the API.</summary>
    /// <param name="endpoints">The web application.</param>
    /// <param name="description">The export served.</param>
    /// <param name="model">The export folder, absolute.</param>
    /// <param name="batcher">Answers the predictions.</param>
    /// <returns><paramref name="endpoints"/>.</returns>
    public static IEndpointRouteBuilder MapExportService(this IEndpointRouteBuilder endpoints, OnnxModelDescription description, string model, PredictionBatcher batcher)
    {
        var startedAt = DateTime.UtcNow;
        var tasks = description.Tasks.Select(t => new ExportTaskView(t.Id, t.Kind, t.State, t.Labels, null)).ToList();
        var notExported = description.NotExported.Select(t => new ExportTaskView(t.Id, t.Kind, t.State, null, t.Reason)).ToList();

        var api = endpoints.MapGroup("/api");
        api.MapGet("/status", () =>
        {
            using var process = Process.GetCurrentProcess();
            return Results.Json(new ExportStatusView(ExportStatusView.Serving, model, description.Quantization, description.Checkpoint, description.Step,
                description.Encoder, tasks, notExported, startedAt, batcher.Batches, new MemoryView(process.WorkingSet64, GC.GetTotalMemory(forceFullCollection: false))));
        });
        api.MapPredict(_ => batcher);
        foreach (var (method, pattern) in TrainingOnly)
        {
            api.MapMethods(pattern, [method], () => Results.Json(new
            {
                error = $"{method} /api{pattern} is an endpoint of a training service; 'mtlhost serve --onnx' only predicts from the ONNX export {model} " +
                        "(POST /api/predict, GET /api/status). Run 'mtlhost serve' without --onnx to train, watch and control a run.",
            }, statusCode: StatusCodes.Status404NotFound));
        }
        return endpoints;
    }
}
