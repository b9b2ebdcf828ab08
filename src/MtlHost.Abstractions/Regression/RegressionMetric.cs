using static TorchSharp.torch;

namespace MtlHost.Abstractions;

/// <summary>
/// Regression scores over an evaluation pass: <c>pearson</c> (the primary score: Pearson correlation
/// of predictions and targets), <c>spearman</c> (Pearson correlation of their ranks, tied values
/// sharing the average of the ranks they span), <c>mae</c> (mean absolute error) and <c>mse</c> (mean
/// squared error). A correlation is 0 when predictions or targets are all equal, where it is undefined.
/// </summary>
/// <remarks>
/// Pearson is primary, as for STS-B in GLUE, because it does not depend on the targets' unit or
/// offset: it reads the same for every regression task in a multi-task table, and the trivial
/// predictor (a constant) scores exactly 0 on it. MAE and MSE are reported in the targets' unit for
/// judging how far off the predictions are.
/// </remarks>
public sealed class RegressionMetric : ITaskMetric
{
    private readonly List<double> _predicted = [];
    private readonly List<double> _actual = [];

    /// <inheritdoc />
    public string PrimaryScore => "pearson";

    /// <inheritdoc />
    public bool HigherIsBetter => true;

    /// <inheritdoc />
    public void Reset()
    {
        _predicted.Clear();
        _actual.Clear();
    }

    /// <inheritdoc />
    public void Update(Tensor outputs, Tensor targets)
    {
        using var predicted = outputs.to_type(ScalarType.Float64).reshape(-1).cpu();
        using var actual = targets.to_type(ScalarType.Float64).reshape(-1).cpu();
        Update(predicted.data<double>().ToArray(), actual.data<double>().ToArray());
    }

    /// <summary>Adds predictions and targets directly.</summary>
    /// <param name="predicted">Predicted values.</param>
    /// <param name="actual">True values, as many as <paramref name="predicted"/>.</param>
    public void Update(ReadOnlySpan<double> predicted, ReadOnlySpan<double> actual)
    {
        if (predicted.Length != actual.Length)
        {
            throw new ArgumentException($"{predicted.Length} predictions for {actual.Length} targets.", nameof(predicted));
        }
        foreach (var value in predicted)
        {
            _predicted.Add(value);
        }
        foreach (var value in actual)
        {
            _actual.Add(value);
        }
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, double> Compute()
    {
        var n = _actual.Count;
        double absolute = 0, squared = 0;
        for (var i = 0; i < n; i++)
        {
            var error = _predicted[i] - _actual[i];
            absolute += Math.Abs(error);
            squared += error * error;
        }
        return new Dictionary<string, double>
        {
            ["pearson"] = Pearson(_predicted, _actual),
            ["spearman"] = Pearson(Ranks(_predicted), Ranks(_actual)),
            ["mae"] = n == 0 ? 0 : absolute / n,
            ["mse"] = n == 0 ? 0 : squared / n,
        };
    }

    private static double Pearson(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        var n = x.Count;
        if (n < 2)
        {
            return 0;
        }
        double meanX = 0, meanY = 0;
        for (var i = 0; i < n; i++)
        {
            meanX += x[i];
            meanY += y[i];
        }
        meanX /= n;
        meanY /= n;
        double covariance = 0, varianceX = 0, varianceY = 0;
        for (var i = 0; i < n; i++)
        {
            var dx = x[i] - meanX;
            var dy = y[i] - meanY;
            covariance += dx * dy;
            varianceX += dx * dx;
            varianceY += dy * dy;
        }
        return varianceX == 0 || varianceY == 0 ? 0 : covariance / Math.Sqrt(varianceX * varianceY);
    }

    // One-based ranks; a run of equal values shares the mean of the ranks it spans (as scipy's rankdata).
    private static double[] Ranks(IReadOnlyList<double> values)
    {
        var order = Enumerable.Range(0, values.Count).OrderBy(i => values[i]).ToArray();
        var ranks = new double[values.Count];
        for (var start = 0; start < order.Length;)
        {
            var end = start;
            while (end + 1 < order.Length && values[order[end + 1]] == values[order[start]])
            {
                end++;
            }
            var shared = (start + end) / 2.0 + 1;
            for (var k = start; k <= end; k++)
            {
                ranks[order[k]] = shared;
            }
            start = end + 1;
        }
        return ranks;
    }
}
