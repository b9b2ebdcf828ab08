using Microsoft.Extensions.Logging;
using MtlHost.Core.Checkpoints;
using MtlHost.Inference;

namespace MtlHost.Worker;

/// <summary>
/// Keeps <c>POST /api/predict</c> on the newest checkpoint of the run: each checkpoint the run writes is loaded into a
/// <see cref="MultiTaskPredictor"/> off the training thread and swapped into the <see cref="PredictionBatcher"/>.
/// Predictions come from a saved model, never from weights the optimizer is changing, and training never waits for them.
/// </summary>
public sealed class CheckpointPredictions : IAsyncDisposable
{
    private readonly string _pluginsDirectory;
    private readonly ILogger _logger;
    private readonly object _lock = new();
    private string? _pending;
    private Task _loading = Task.CompletedTask;
    private bool _disposed;

    /// <summary>Creates the loader and its batcher, which answers 503 until the first checkpoint (written or resumed from) is loaded.</summary>
    /// <param name="pluginsDirectory">The plugins folder, which holds the DLLs the checkpoints name.</param>
    /// <param name="options">How concurrent requests are batched.</param>
    /// <param name="logger">Receives loads and failed loads.</param>
    public CheckpointPredictions(string pluginsDirectory, PredictionBatcherOptions options, ILogger logger)
    {
        _pluginsDirectory = pluginsDirectory;
        _logger = logger;
        Batcher = new PredictionBatcher(null, options, logger);
    }

    /// <summary>Answers the prediction requests.</summary>
    public PredictionBatcher Batcher { get; }

    /// <summary>Schedules loading a checkpoint the run has just written or resumed from; when several arrive during one load, the newest wins.</summary>
    /// <param name="directory">The checkpoint's folder.</param>
    public void CheckpointWritten(string directory)
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }
            var idle = _pending is null;
            _pending = directory;
            if (idle)
            {
                _loading = _loading.ContinueWith(_ => LoadPending(), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
            }
        }
    }

    /// <summary>Waits for the load in progress, if any (tests, shutdown).</summary>
    /// <returns>A task that completes when no load is running.</returns>
    public Task Idle()
    {
        lock (_lock)
        {
            return _loading;
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        Task loading;
        lock (_lock)
        {
            _disposed = true;
            _pending = null;
            loading = _loading;
        }
        await loading.ConfigureAwait(false);
        await Batcher.DisposeAsync().ConfigureAwait(false);
    }

    private void LoadPending()
    {
        while (true)
        {
            string directory;
            lock (_lock)
            {
                if (_pending is null || _disposed)
                {
                    _pending = null;
                    return;
                }
                directory = _pending;
            }
            try
            {
                var predictor = MultiTaskPredictor.Load(directory, _pluginsDirectory, _logger);
                try
                {
                    Batcher.Swap(predictor);
                }
                catch (ObjectDisposedException)
                {
                    return;
                }
            }
            catch (Exception e) when (e is CheckpointException or IOException or UnauthorizedAccessException)
            {
                // A plugin replaced right after the checkpoint, or a checkpoint rotated away before it was read: the next one serves.
                _logger.LogWarning("Predictions stay on the previous checkpoint: {Checkpoint} could not be loaded: {Reason}", directory, e.Message);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Anything else must not end the loading loop either, or no later checkpoint would ever be served.
                _logger.LogError(e, "Predictions stay on the previous checkpoint: loading {Checkpoint} failed", directory);
            }
            lock (_lock)
            {
                if (ReferenceEquals(_pending, directory))
                {
                    _pending = null;
                    return;
                }
            }
        }
    }
}
