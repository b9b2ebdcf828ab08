using static TorchSharp.torch;

namespace MtlHost.Abstractions;

/// <summary>
/// Binary cross-entropy of an independent sigmoid per label: logits <c>[B, L]</c> against multi-hot
/// targets <c>[B, L]</c>, averaged over every example and label. With <see cref="WeightPositives"/> a label's
/// positive term is weighted by √(negatives / positives) of the training split (between 1 and
/// <see cref="MaxPositiveWeight"/>), so that rare labels are not learnt as "never".
/// </summary>
/// <remarks>
/// With 45 labels of which an example carries two on average, the unweighted loss is lowest early on by predicting no
/// label at all, and at the 0.5 threshold nothing is predicted for a long time. The full ratio (PyTorch's documented
/// <c>pos_weight</c>) balances positives and negatives but then predicts far too many labels; its square root is the
/// usual compromise.
/// </remarks>
public sealed class MultiLabelBinaryCrossEntropy : ITaskLoss, ITrainingSplitAware, IDisposable
{
    private Tensor? _positiveWeights;

    /// <summary>Whether to weight each label's positive term from the training split's label frequencies; default on.</summary>
    public bool WeightPositives { get; init; } = true;

    /// <summary>Largest positive weight of a label; default 30.</summary>
    public double MaxPositiveWeight { get; init; } = 30;

    /// <summary>The positive weight of each label once prepared, or <see langword="null"/> (unweighted).</summary>
    public IReadOnlyList<double>? PositiveWeights { get; private set; }

    /// <inheritdoc />
    public void Prepare(TrainingSplitSummary training)
    {
        ArgumentNullException.ThrowIfNull(training);
        if (!WeightPositives || training.Examples == 0 || training.LabelCounts.Count == 0)
        {
            return;
        }
        var weights = PositiveWeightsFor(training, MaxPositiveWeight);
        PositiveWeights = weights;
        _positiveWeights?.Dispose();
        _positiveWeights = tensor(weights.Select(w => (float)w).ToArray()).DetachFromDisposeScope();
    }

    /// <summary>√(negatives / positives) of each label in the training split, between 1 and <paramref name="maxWeight"/> (1 for a label never seen).</summary>
    /// <param name="training">The training split's label counts.</param>
    /// <param name="maxWeight">The largest weight.</param>
    /// <returns>One weight per label.</returns>
    public static double[] PositiveWeightsFor(TrainingSplitSummary training, double maxWeight = 30)
    {
        ArgumentNullException.ThrowIfNull(training);
        return training.LabelCounts.Select(positives => positives <= 0
            ? 1.0
            : Math.Clamp(Math.Sqrt((training.Examples - positives) / (double)positives), 1.0, maxWeight)).ToArray();
    }

    /// <inheritdoc />
    public Tensor Compute(Tensor outputs, Tensor targets)
    {
        // The fused form is numerically stable for large logits, unlike sigmoid followed by log.
        using var typed = targets.to_type(outputs.dtype);
        if (_positiveWeights is null || _positiveWeights.shape[0] != outputs.shape[^1])
        {
            return nn.functional.binary_cross_entropy_with_logits(outputs, typed);
        }
        using var weights = _positiveWeights.to(outputs.dtype, outputs.device);
        return nn.functional.binary_cross_entropy_with_logits(outputs, typed, pos_weights: weights);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _positiveWeights?.Dispose();
        _positiveWeights = null;
    }
}
