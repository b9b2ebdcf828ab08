namespace MtlHost.Worker;

/// <summary>
/// A series of (step, value) points whose memory stays bounded in a run of any length: when it holds
/// <see cref="MaxPoints"/> points, neighbouring pairs merge into their mean (at the later step), and each new
/// point from then on is the mean of twice as many raw values. A days-long run keeps its whole history at a
/// coarser resolution, with the same number of points as a short one. Not thread-safe: the owner locks.
/// </summary>
public sealed class Curve
{
    private readonly List<(int Step, double Value)> _points = [];
    private double _pendingSum;
    private int _pendingCount;

    /// <summary>Creates an empty curve.</summary>
    /// <param name="maxPoints">Most points kept; an even number of at least 2.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxPoints"/> is odd or below 2.</exception>
    public Curve(int maxPoints = 2000)
    {
        if (maxPoints < 2 || maxPoints % 2 != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(maxPoints), maxPoints, "The curve keeps an even number of at least 2 points.");
        }
        MaxPoints = maxPoints;
    }

    /// <summary>Most points kept.</summary>
    public int MaxPoints { get; }

    /// <summary>Raw values each kept point averages (1 until the curve first fills up).</summary>
    public int ValuesPerPoint { get; private set; } = 1;

    /// <summary>Points kept now.</summary>
    public int Count => _points.Count;

    /// <summary>The last raw value added, or <see langword="null"/>.</summary>
    public double? Last { get; private set; }

    /// <summary>Adds a raw value; non-finite values are not plotted and are skipped.</summary>
    /// <param name="step">The step it belongs to.</param>
    /// <param name="value">The value.</param>
    public void Add(int step, double value)
    {
        if (!double.IsFinite(value))
        {
            return;
        }
        Last = value;
        _pendingSum += value;
        _pendingCount++;
        if (_pendingCount < ValuesPerPoint)
        {
            return;
        }
        _points.Add((step, _pendingSum / _pendingCount));
        _pendingSum = 0;
        _pendingCount = 0;
        if (_points.Count >= MaxPoints)
        {
            // Every kept point averages the same number of raw values, so the mean of a pair is the mean of its values.
            for (var i = 0; i < _points.Count / 2; i++)
            {
                var (_, first) = _points[2 * i];
                var (step2, second) = _points[2 * i + 1];
                _points[i] = (step2, (first + second) / 2);
            }
            _points.RemoveRange(_points.Count / 2, _points.Count - _points.Count / 2);
            ValuesPerPoint *= 2;
        }
    }

    /// <summary>The kept points after <paramref name="since"/>, as <c>[step, value]</c> pairs.</summary>
    /// <param name="since">Only points of later steps; <see langword="null"/> for all.</param>
    /// <returns>The points, oldest first.</returns>
    public IReadOnlyList<double[]> Points(int? since = null) =>
        _points.Where(p => since is null || p.Step > since).Select(p => new[] { p.Step, p.Value }).ToList();
}
