using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MtlHost.Cli;
using MtlHost.Core.Distributed;
using MtlHost.Hosting;
using MtlHost.Inference;
using MtlHost.Inference.Onnx;
using MtlHost.Worker;

namespace MtlHost.Deployment;

/// <summary>
/// <c>mtlhost serve --onnx DIR</c>: a prediction-only web service of an <c>export --format onnx</c> folder, run by ONNX
/// Runtime — no training, no plugins folder, and no libtorch loaded (nothing on this path touches a TorchSharp type, so
/// the executable's TorchSharp reference never loads its native library). It answers the training <c>serve</c>'s
/// <c>POST /api/predict</c>, batched by the same <see cref="PredictionBatcher"/>, and its own <c>GET /api/status</c>
/// (<see cref="ExportEndpoints"/>). Every setting and the export are read and checked before anything listens, so a bad
/// one stops start-up with one message and exit code 2.
/// </summary>
public sealed class OnnxServeHost : IAsyncDisposable
{
    /// <summary>The options of <c>serve</c> that go with <c>--onnx</c>; every other one is about training.</summary>
    public static IReadOnlyList<string> AcceptedOptions { get; } = ["onnx", "urls", "threads", "config"];

    private readonly WebApplication _app;
    private readonly PredictionBatcher _batcher;
    private readonly ServeOptions _options;
    private readonly OnnxMultiTaskPredictor _predictor;

    private OnnxServeHost(WebApplication app, PredictionBatcher batcher, ServeOptions options, OnnxMultiTaskPredictor predictor)
    {
        _app = app;
        _batcher = batcher;
        _options = options;
        _predictor = predictor;
    }

    /// <summary>Builds the service from a parsed <c>serve --onnx DIR</c> command line and loads the export; nothing listens yet.</summary>
    /// <param name="command">The command line.</param>
    /// <returns>The service.</returns>
    /// <exception cref="UsageException">A training option was given, a setting is not valid, or the folder is not a usable ONNX export.</exception>
    public static OnnxServeHost Create(ParsedCommand command)
    {
        var directory = command.Get("onnx") ?? throw new ArgumentException("The command line has no --onnx.", nameof(command));
        var training = command.Options.Keys.Where(name => !AcceptedOptions.Contains(name)).Order(StringComparer.Ordinal).ToList();
        if (training.Count > 0)
        {
            throw new UsageException($"mtlhost serve --onnx serves predictions of an export and trains nothing, so {string.Join(", ", training.Select(o => "--" + o))} " +
                                     $"{(training.Count == 1 ? "does" : "do")} not apply; it takes {string.Join(", ", AcceptedOptions.Skip(1).Select(o => "--" + o))} only. " +
                                     "Leave out --onnx to train.");
        }
        if (ProcessGroups.LauncherWorldSize(Environment.GetEnvironmentVariable) is not (null or 1))
        {
            // Every process would serve the same model on the same address; there is nothing to train together.
            throw new UsageException("serve --onnx is one process; start it without mpirun (run several behind a load balancer to scale it).");
        }
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory, Args = [] });
        HostFactory.Configure(builder, command);
        var options = ServeOptions.Read(builder.Configuration);
        // ONNX Runtime's intra-op threads; torch's count is never applied here, since that would load libtorch.
        var threads = TorchThreads.Read(builder.Configuration) ?? 0;

        OnnxMultiTaskPredictor predictor;
        try
        {
            predictor = OnnxMultiTaskPredictor.Load(directory, new OnnxPredictorOptions { IntraOpThreads = threads });
        }
        catch (InvalidDataException e)
        {
            throw new UsageException($"mtlhost serve --onnx: {e.Message}");
        }

        try
        {
            ServeWebHost.Configure(builder, options);
            var app = builder.Build();
            // Not a service of the host: this class owns it and disposes it once the server has stopped taking requests.
            var batcher = new PredictionBatcher(predictor, new PredictionBatcherOptions(), app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("MtlHost.Predict"));
            app.MapExportService(predictor.Description, predictor.Directory, batcher);
            return new OnnxServeHost(app, batcher, options, predictor);
        }
        catch
        {
            predictor.Dispose();
            throw;
        }
    }

    /// <summary>The addresses the service listens on, with the real port when port 0 was asked for; known once started.</summary>
    public IReadOnlyList<string> Urls => [.. _app.Urls];

    /// <summary>The batcher that answers the predictions (for tests: the batches it ran).</summary>
    public PredictionBatcher Batcher => _batcher;

    /// <summary>Starts listening.</summary>
    /// <param name="cancellationToken">Abandons the start.</param>
    /// <returns>A task that completes once the service listens.</returns>
    /// <exception cref="UsageException">An address cannot be listened on.</exception>
    public Task StartAsync(CancellationToken cancellationToken = default) => ServeWebHost.StartAsync(_app, _options, cancellationToken);

    /// <summary>Stops: requests in flight are answered, then the server stops.</summary>
    /// <returns>A task that completes once the server stopped.</returns>
    public Task StopAsync() => _app.StopAsync();

    /// <summary>Runs until the service is stopped (SIGTERM, Ctrl-C, systemd, <paramref name="cancellationToken"/>).</summary>
    /// <param name="cancellationToken">Stops the service gracefully.</param>
    /// <returns>The exit code: 0.</returns>
    /// <exception cref="UsageException">An address cannot be listened on.</exception>
    public int Run(CancellationToken cancellationToken)
    {
        StartAsync(CancellationToken.None).GetAwaiter().GetResult();
        var description = _predictor.Description;
        _app.Logger.LogInformation("Serving ONNX export {Model} ({Quantization}; checkpoint step {Step}, encoder {Encoder}; tasks {Tasks}) on {Urls} " +
                                   "(POST /api/predict, GET /api/status); stop with Ctrl-C or SIGTERM",
            _predictor.Directory, description.Quantization, description.Step, description.Encoder, string.Join(", ", description.Tasks.Select(t => t.Id)),
            string.Join(" ", Urls.Select(u => u + "/")));
        _app.WaitForShutdownAsync(cancellationToken).GetAwaiter().GetResult();
        return MtlHostApplication.Success;
    }

    /// <summary>Disposes the server, then the batcher (which answers what is still queued) and with it the predictor.</summary>
    /// <returns>A task that completes once everything is disposed.</returns>
    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        await _batcher.DisposeAsync();
    }
}
