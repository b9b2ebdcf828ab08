using MtlHost.Core.Inference;

namespace MtlHost.Predictions;

/// <summary>
/// A loaded multi-task model that predicts every task (or one) for a batch of inputs: the host's TorchSharp predictor of a
/// checkpoint and the ONNX Runtime predictor of an export both are one, so that whatever serves predictions (the host's
/// request batcher) works with either.
/// </summary>
/// <remarks>
/// Implementations must allow <see cref="Validate"/> from any thread while <see cref="Predict"/> runs on another;
/// <see cref="IDisposable.Dispose"/> is called once no prediction uses the model any more.
/// </remarks>
public interface IMultiTaskPredictor : IDisposable
{
    /// <summary>Training step of the checkpoint the model was saved at.</summary>
    int Step { get; }

    /// <summary>The folder the model was loaded from (a checkpoint, or an ONNX export), absolute.</summary>
    string ModelDirectory { get; }

    /// <summary>Checks a request as <see cref="Predict"/> would, without predicting, so that a bad one is refused at once.</summary>
    /// <param name="inputs">The inputs.</param>
    /// <param name="taskId">The task asked for, or <see langword="null"/> for every task that was training.</param>
    /// <exception cref="ArgumentException">See <see cref="Predict"/>.</exception>
    void Validate(IReadOnlyList<PredictionInput> inputs, string? taskId);

    /// <summary>Predicts a batch of inputs in one pass of the encoder (one per encoder branch).</summary>
    /// <param name="inputs">The inputs.</param>
    /// <param name="taskId">
    /// One task to predict, by id (any state); <see langword="null"/> for every task that was training at checkpoint time.
    /// Pair-classification tasks are predicted for inputs with a <see cref="PredictionInput.Pair"/> and noted as skipped for the others.
    /// </param>
    /// <returns>One response per input, in input order.</returns>
    /// <exception cref="ArgumentException">
    /// The task is unknown or cannot be predicted (the message lists the tasks), or is a pair task and an input has no
    /// second text; or an input's text is empty.
    /// </exception>
    IReadOnlyList<PredictionResponse> Predict(IReadOnlyList<PredictionInput> inputs, string? taskId = null);
}
