using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using MtlHost.Core.Inference;
using MtlHost.Predictions;

namespace MtlHost.Inference;

/// <summary>
/// Serves concurrent prediction requests (a web endpoint's) in batches: requests queue up, and one dedicated thread
/// takes up to <see cref="PredictionBatcherOptions.MaxBatchSize"/> of them — waiting at most
/// <see cref="PredictionBatcherOptions.MaxDelay"/> after the first — and predicts them with one encoder pass
/// (one per distinct task asked for). All model work of the batcher happens on that thread.
/// </summary>
/// <remarks>
/// It serves any <see cref="IMultiTaskPredictor"/>: a checkpoint's <see cref="MultiTaskPredictor"/> (TorchSharp; the
/// training <c>serve</c>) or an ONNX export's predictor (<c>serve --onnx</c>); the batcher itself touches no TorchSharp type.
/// The batcher owns the predictors it is given: <see cref="Swap"/> retires the old one and disposes it only after the
/// batch that may be using it has ended; <see cref="DisposeAsync"/> answers what is queued, then disposes the current one.
/// </remarks>
public sealed class PredictionBatcher : IAsyncDisposable
{
    private readonly Channel<Request?> _queue;
    private readonly PredictionBatcherOptions _options;
    private readonly ILogger _logger;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<IMultiTaskPredictor> _retired = [];
    private IMultiTaskPredictor? _current;
    private long _batches;
    private int _disposed;

    /// <summary>Creates the batcher and starts its thread.</summary>
    /// <param name="predictor">The predictor to start with, or <see langword="null"/> until the first <see cref="Swap"/>.</param>
    /// <param name="options">Batch size and delay.</param>
    /// <param name="logger">Receives swaps and unexpected failures.</param>
    /// <exception cref="ArgumentOutOfRangeException">The batch size is below 1 or the delay is negative.</exception>
    public PredictionBatcher(IMultiTaskPredictor? predictor, PredictionBatcherOptions options, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxBatchSize, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Delay, TimeSpan.Zero, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxWaiting, 1, nameof(options));
        _queue = Channel.CreateBounded<Request?>(new BoundedChannelOptions(options.MaxWaiting) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        _current = predictor;
        _options = options;
        _logger = logger;
        var worker = new Thread(Work) { IsBackground = true, Name = "mtlhost-predict" };
        worker.Start();
    }

    /// <summary>Checkpoint step of the current predictor; <see langword="null"/> while there is none.</summary>
    public int? Step => Volatile.Read(ref _current)?.Step;

    /// <summary>Batches predicted so far: one per encoder pass (a batch asking for two different tasks counts two).</summary>
    public long Batches => Interlocked.Read(ref _batches);

    /// <summary>
    /// Serves the next batches with <paramref name="predictor"/> (a newer checkpoint). The old predictor is disposed once
    /// the batch in flight, if any, has ended.
    /// </summary>
    /// <param name="predictor">The new predictor; the batcher owns it from now on.</param>
    /// <exception cref="ObjectDisposedException">The batcher was disposed (the predictor is disposed too).</exception>
    public void Swap(IMultiTaskPredictor predictor)
    {
        ArgumentNullException.ThrowIfNull(predictor);
        if (Volatile.Read(ref _disposed) != 0)
        {
            predictor.Dispose();
            throw new ObjectDisposedException(nameof(PredictionBatcher));
        }
        var old = Interlocked.Exchange(ref _current, predictor);
        _logger.LogInformation("Prediction now serves checkpoint step {Step} ({Model})", predictor.Step, predictor.ModelDirectory);
        if (old is null || ReferenceEquals(old, predictor))
        {
            return;
        }
        lock (_retired)
        {
            _retired.Add(old);
        }
        // Wakes an idle worker so the old predictor's memory goes now rather than at the next request.
        _queue.Writer.TryWrite(null);
    }

    /// <summary>Queues one input and completes when its batch has been predicted.</summary>
    /// <param name="input">The text (and the second text for pair tasks).</param>
    /// <param name="taskId">One task by id, or <see langword="null"/> for every task that was training at checkpoint time.</param>
    /// <param name="ct">Cancels the wait (the request is skipped if its batch has not started).</param>
    /// <returns>The predictions of the input.</returns>
    /// <exception cref="PredictionUnavailableException">No checkpoint has been loaded yet, or <see cref="PredictionBatcherOptions.MaxWaiting"/> requests are already waiting.</exception>
    /// <exception cref="ArgumentException">The task is unknown (the message lists the tasks), a pair task lacks its second text, or the text is empty.</exception>
    /// <exception cref="ObjectDisposedException">The batcher was disposed.</exception>
    public Task<PredictionResponse> PredictAsync(PredictionInput input, string? taskId, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(input);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var predictor = Volatile.Read(ref _current)
                        ?? throw new PredictionUnavailableException("No checkpoint has been loaded yet; predictions start once the run writes its first checkpoint.");
        // Checked now so that the caller gets a bad request at once; the batch checks again against the predictor it uses.
        predictor.Validate([input], taskId);
        ct.ThrowIfCancellationRequested();

        var request = new Request(input, taskId);
        if (ct.CanBeCanceled)
        {
            request.Registration = ct.Register(() => request.Completion.TrySetCanceled(ct));
        }
        if (!_queue.Writer.TryWrite(request))
        {
            request.Registration.Dispose();
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            throw new PredictionUnavailableException($"Busy: {_options.MaxWaiting} requests are already waiting; retry shortly.");
        }
        return request.Completion.Task;
    }

    /// <summary>Answers every queued request, stops the thread and disposes the predictors.</summary>
    /// <returns>A task that completes when the thread has stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            await _stopped.Task.ConfigureAwait(false);
            return;
        }
        _queue.Writer.TryComplete();
        await _stopped.Task.ConfigureAwait(false);
        Interlocked.Exchange(ref _current, null)?.Dispose();
        DisposeRetired();
    }

    private void Work()
    {
        try
        {
            var reader = _queue.Reader;
            while (reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
            {
                var batch = new List<Request>(_options.MaxBatchSize);
                TakeAvailable(reader, batch);
                if (batch.Count > 0)
                {
                    // Wait a little for company: the delay bounds the latency a request pays for being batched.
                    var deadline = Stopwatch.GetTimestamp() + (long)(_options.Delay.TotalSeconds * Stopwatch.Frequency);
                    while (batch.Count < _options.MaxBatchSize)
                    {
                        var remaining = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline);
                        if (remaining <= TimeSpan.Zero || !WaitForMore(reader, remaining))
                        {
                            break;
                        }
                        TakeAvailable(reader, batch);
                    }
                    Run(batch);
                }
                DisposeRetired();
            }
        }
        catch (Exception e)
        {
            _logger.LogError(e, "The prediction thread stopped unexpectedly");
        }
        finally
        {
            // Whatever is still queued gets an answer rather than waiting forever.
            while (_queue.Reader.TryRead(out var left))
            {
                left?.Completion.TrySetException(new ObjectDisposedException(nameof(PredictionBatcher)));
            }
            _stopped.TrySetResult();
        }
    }

    private void TakeAvailable(ChannelReader<Request?> reader, List<Request> batch)
    {
        while (batch.Count < _options.MaxBatchSize && reader.TryRead(out var request))
        {
            if (request is not null && !request.Completion.Task.IsCompleted)
            {
                batch.Add(request);
            }
        }
    }

    private static bool WaitForMore(ChannelReader<Request?> reader, TimeSpan remaining)
    {
        using var timeout = new CancellationTokenSource(remaining);
        try
        {
            return reader.WaitToReadAsync(timeout.Token).AsTask().GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private void Run(List<Request> batch)
    {
        var predictor = Volatile.Read(ref _current);
        foreach (var group in batch.GroupBy(r => r.TaskId))
        {
            var requests = group.ToList();
            try
            {
                if (predictor is null)
                {
                    throw new PredictionUnavailableException("No checkpoint has been loaded yet; predictions start once the run writes its first checkpoint.");
                }
                var responses = predictor.Predict(requests.Select(r => r.Input).ToList(), group.Key);
                Interlocked.Increment(ref _batches);
                for (var i = 0; i < requests.Count; i++)
                {
                    requests[i].Complete(responses[i], null);
                }
            }
            catch (Exception e)
            {
                if (e is not (ArgumentException or PredictionUnavailableException))
                {
                    _logger.LogError(e, "A prediction batch of {Count} request(s) failed", requests.Count);
                }
                foreach (var request in requests)
                {
                    request.Complete(null, e);
                }
            }
        }
    }

    private void DisposeRetired()
    {
        IMultiTaskPredictor[] retired;
        lock (_retired)
        {
            retired = [.. _retired];
            _retired.Clear();
        }
        foreach (var predictor in retired)
        {
            predictor.Dispose();
        }
    }

    private sealed class Request(PredictionInput input, string? taskId)
    {
        public PredictionInput Input { get; } = input;

        public string? TaskId { get; } = taskId;

        public TaskCompletionSource<PredictionResponse> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CancellationTokenRegistration Registration { get; set; }

        public void Complete(PredictionResponse? response, Exception? error)
        {
            Registration.Dispose();
            if (error is null)
            {
                Completion.TrySetResult(response!);
            }
            else
            {
                Completion.TrySetException(error);
            }
        }
    }
}
