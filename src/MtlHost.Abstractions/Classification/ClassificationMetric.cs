using static TorchSharp.torch;

namespace MtlHost.Abstractions;

/// <summary>
/// Single-label classification scores from a confusion matrix: <c>accuracy</c>, <c>macro_f1</c>
/// (the primary score; the mean F1 over labels that occur in targets or predictions, as
/// scikit-learn computes it) and <c>mcc</c> (Matthews correlation, multi-class form).
/// </summary>
public sealed class ClassificationMetric : ITaskMetric
{
    private readonly long[,] _confusion;
    private readonly int _labelCount;

    /// <summary>Creates an empty metric.</summary>
    /// <param name="labelCount">Number of labels.</param>
    public ClassificationMetric(int labelCount)
    {
        _labelCount = labelCount;
        _confusion = new long[labelCount, labelCount];
    }

    /// <inheritdoc />
    public string PrimaryScore => "macro_f1";

    /// <inheritdoc />
    public bool HigherIsBetter => true;

    /// <inheritdoc />
    public void Reset() => Array.Clear(_confusion);

    /// <inheritdoc />
    public void Update(Tensor outputs, Tensor targets)
    {
        using var predicted = outputs.argmax(-1).reshape(-1).cpu();
        using var actual = targets.reshape(-1).cpu();
        var p = predicted.data<long>().ToArray();
        var t = actual.data<long>().ToArray();
        for (var i = 0; i < t.Length; i++)
        {
            if (t[i] == TaskTargets.IgnoreIndex)
            {
                continue;
            }
            _confusion[t[i], p[i]]++;
        }
    }

    /// <summary>Adds predicted and true label indices directly.</summary>
    /// <param name="predicted">Predicted label indices.</param>
    /// <param name="actual">True label indices.</param>
    public void Update(ReadOnlySpan<int> predicted, ReadOnlySpan<int> actual)
    {
        for (var i = 0; i < actual.Length; i++)
        {
            _confusion[actual[i], predicted[i]]++;
        }
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, double> Compute()
    {
        long total = 0, correct = 0;
        var truePerLabel = new long[_labelCount];
        var predictedPerLabel = new long[_labelCount];
        for (var t = 0; t < _labelCount; t++)
        {
            for (var p = 0; p < _labelCount; p++)
            {
                var n = _confusion[t, p];
                total += n;
                truePerLabel[t] += n;
                predictedPerLabel[p] += n;
                if (t == p)
                {
                    correct += n;
                }
            }
        }

        double f1Sum = 0;
        var f1Count = 0;
        for (var k = 0; k < _labelCount; k++)
        {
            if (truePerLabel[k] == 0 && predictedPerLabel[k] == 0)
            {
                continue;
            }
            var tp = _confusion[k, k];
            f1Sum += 2.0 * tp / (truePerLabel[k] + predictedPerLabel[k]);
            f1Count++;
        }

        // Multi-class MCC (Gorodkin 2004): (c·s − Σ p_k t_k) / sqrt((s² − Σ p_k²)(s² − Σ t_k²)).
        double s = total, c = correct, sumPt = 0, sumP2 = 0, sumT2 = 0;
        for (var k = 0; k < _labelCount; k++)
        {
            sumPt += (double)predictedPerLabel[k] * truePerLabel[k];
            sumP2 += (double)predictedPerLabel[k] * predictedPerLabel[k];
            sumT2 += (double)truePerLabel[k] * truePerLabel[k];
        }
        var denominator = Math.Sqrt((s * s - sumP2) * (s * s - sumT2));

        return new Dictionary<string, double>
        {
            ["accuracy"] = total == 0 ? 0 : c / s,
            ["macro_f1"] = f1Count == 0 ? 0 : f1Sum / f1Count,
            ["mcc"] = denominator == 0 ? 0 : (c * s - sumPt) / denominator,
        };
    }
}
