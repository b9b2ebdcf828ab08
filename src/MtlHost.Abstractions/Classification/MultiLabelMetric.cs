using static TorchSharp.torch;

namespace MtlHost.Abstractions;

/// <summary>
/// Multi-label scores at a probability threshold: a label counts as predicted when its sigmoid is at
/// least the threshold (a logit ≥ 0 for the default 0.5). Reports
/// <c>micro_f1</c> (the primary score: 2·TP / (2·TP + FP + FN) summed over all labels),
/// <c>macro_f1</c> (the mean of each label's F1 over the labels that occur in targets or predictions,
/// as <see cref="ClassificationMetric"/> averages), <c>micro_precision</c>, <c>micro_recall</c> and
/// <c>exact_match</c> (share of examples whose predicted set equals the true set).
/// </summary>
/// <remarks>
/// Micro-F1 is primary because it weighs every (example, label) decision equally: with many labels and
/// a few positives of the rare ones in a validation split, macro-F1 moves by whole points when one rare
/// label flips, which makes it a noisy signal for choosing checkpoints. Macro-F1 is reported to show
/// how the rare labels fare.
/// </remarks>
public sealed class MultiLabelMetric : ITaskMetric
{
    private readonly int _labelCount;
    private readonly double _logitThreshold;
    private readonly long[] _truePositives;
    private readonly long[] _falsePositives;
    private readonly long[] _falseNegatives;
    private long _examples;
    private long _exactMatches;

    /// <summary>Creates an empty metric.</summary>
    /// <param name="labelCount">Number of labels.</param>
    /// <param name="threshold">Probability at or above which a label counts as predicted; strictly between 0 and 1.</param>
    public MultiLabelMetric(int labelCount, double threshold = 0.5)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(labelCount, 1);
        if (!(threshold > 0 && threshold < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "The threshold must be strictly between 0 and 1.");
        }
        _labelCount = labelCount;
        // sigmoid(z) ≥ t ⇔ z ≥ logit(t): comparing logits avoids computing a sigmoid per output.
        _logitThreshold = Math.Log(threshold / (1 - threshold));
        _truePositives = new long[labelCount];
        _falsePositives = new long[labelCount];
        _falseNegatives = new long[labelCount];
    }

    /// <inheritdoc />
    public string PrimaryScore => "micro_f1";

    /// <inheritdoc />
    public bool HigherIsBetter => true;

    /// <inheritdoc />
    public void Reset()
    {
        Array.Clear(_truePositives);
        Array.Clear(_falsePositives);
        Array.Clear(_falseNegatives);
        _examples = 0;
        _exactMatches = 0;
    }

    /// <inheritdoc />
    public void Update(Tensor outputs, Tensor targets)
    {
        using var logits = outputs.to_type(ScalarType.Float64).reshape(-1, _labelCount).cpu();
        using var actual = targets.to_type(ScalarType.Float64).reshape(-1, _labelCount).cpu();
        var z = logits.data<double>().ToArray();
        var t = actual.data<double>().ToArray();
        var predicted = new bool[_labelCount];
        var truth = new bool[_labelCount];
        for (var row = 0; row < z.Length / _labelCount; row++)
        {
            for (var k = 0; k < _labelCount; k++)
            {
                predicted[k] = z[row * _labelCount + k] >= _logitThreshold;
                truth[k] = t[row * _labelCount + k] >= 0.5;
            }
            Update(predicted, truth);
        }
    }

    /// <summary>Adds one example's predicted and true label sets directly.</summary>
    /// <param name="predicted">Whether each label is predicted; one entry per label.</param>
    /// <param name="actual">Whether each label is true; one entry per label.</param>
    public void Update(ReadOnlySpan<bool> predicted, ReadOnlySpan<bool> actual)
    {
        if (predicted.Length != _labelCount || actual.Length != _labelCount)
        {
            throw new ArgumentException($"Expected {_labelCount} entries per example, got {predicted.Length} predicted and {actual.Length} true.");
        }
        var exact = true;
        for (var k = 0; k < _labelCount; k++)
        {
            if (predicted[k] && actual[k])
            {
                _truePositives[k]++;
            }
            else if (predicted[k])
            {
                _falsePositives[k]++;
                exact = false;
            }
            else if (actual[k])
            {
                _falseNegatives[k]++;
                exact = false;
            }
        }
        _examples++;
        if (exact)
        {
            _exactMatches++;
        }
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, double> Compute()
    {
        long tp = 0, fp = 0, fn = 0;
        double f1Sum = 0;
        var f1Count = 0;
        for (var k = 0; k < _labelCount; k++)
        {
            tp += _truePositives[k];
            fp += _falsePositives[k];
            fn += _falseNegatives[k];
            var errorsAndHits = 2 * _truePositives[k] + _falsePositives[k] + _falseNegatives[k];
            if (errorsAndHits == 0)
            {
                // Neither true nor predicted anywhere: no evidence either way, so it does not count.
                continue;
            }
            f1Sum += 2.0 * _truePositives[k] / errorsAndHits;
            f1Count++;
        }
        return new Dictionary<string, double>
        {
            ["micro_f1"] = 2 * tp + fp + fn == 0 ? 0 : 2.0 * tp / (2 * tp + fp + fn),
            ["macro_f1"] = f1Count == 0 ? 0 : f1Sum / f1Count,
            ["micro_precision"] = tp + fp == 0 ? 0 : (double)tp / (tp + fp),
            ["micro_recall"] = tp + fn == 0 ? 0 : (double)tp / (tp + fn),
            ["exact_match"] = _examples == 0 ? 0 : (double)_exactMatches / _examples,
        };
    }
}
