using TorchSharp;

namespace MtlHost.Abstractions;

/// <summary>
/// Accumulates predictions over an evaluation pass and reports named scores. One instance serves one
/// pass at a time: the host calls <see cref="Reset"/>, then <see cref="Update"/> per batch, then
/// <see cref="Compute"/>.
/// </summary>
public interface ITaskMetric
{
    /// <summary>Name of the score that summarises the task (for example <c>macro_f1</c>).</summary>
    string PrimaryScore { get; }

    /// <summary>Whether a larger <see cref="PrimaryScore"/> is better.</summary>
    bool HigherIsBetter { get; }

    /// <summary>Forgets everything accumulated so far.</summary>
    void Reset();

    /// <summary>Adds one batch. Tensors are detached and may be copied to the CPU.</summary>
    /// <param name="outputs">The head's outputs.</param>
    /// <param name="targets">The targets, as passed to the loss.</param>
    void Update(torch.Tensor outputs, torch.Tensor targets);

    /// <summary>The scores over everything added since the last <see cref="Reset"/>, including <see cref="PrimaryScore"/>.</summary>
    /// <returns>Score name to value.</returns>
    IReadOnlyDictionary<string, double> Compute();
}
