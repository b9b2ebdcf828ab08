namespace MtlHost.Core.Weighting;

/// <summary>
/// DWA: dynamic weight average (Liu, Johns and Davison, "End-to-End Multi-Task Learning with
/// Attention", CVPR 2019). A task's weight is K·softmax_i(r_i / T) with r_i = L̄_i(n−1) / L̄_i(n−2),
/// the ratio of its two last window-mean losses, T = 2 by default; one backward pass.
/// </summary>
/// <remarks>
/// <para>
/// The paper (and LibMTL) averages over epochs. A sampled multi-task run has no common epoch, so the
/// window here is <see cref="WeightingOptions.DwaWindow"/> of the task's own steps (50 by default):
/// each task's losses are averaged over consecutive non-overlapping blocks of that many of its steps,
/// and its ratio uses the last two completed blocks. Weights are 1 until windows exist, as the paper's
/// first two epochs; a task with fewer than two completed windows (one that joined late) counts with
/// ratio 1 while the others use theirs. The weights of a step sum to its number of tasks.
/// </para>
/// <para>
/// The softmax compares the tasks of one step, and with one task per step every weight is 1 (plain
/// EW), so <see cref="NeedsEveryTask"/> is true. State per task: the open window's sum and count,
/// the last two window means, the number of completed windows.
/// </para>
/// </remarks>
public sealed class DynamicWeightAverage : ILossWeighting
{
    private const int Sum = 0, Count = 1, LastMean = 2, MeanBefore = 3, Completed = 4;

    private readonly TaskStateTable _state;
    private readonly double _temperature;
    private readonly int _window;

    /// <summary>Creates the strategy.</summary>
    /// <param name="options">Settings (<see cref="WeightingOptions.DwaTemperature"/>, <see cref="WeightingOptions.DwaWindow"/>); null for the defaults.</param>
    public DynamicWeightAverage(WeightingOptions? options = null)
    {
        options ??= WeightingOptions.Default;
        options.Validate();
        _temperature = options.DwaTemperature;
        _window = options.DwaWindow;
        _state = new TaskStateTable(Name, [0, 0, 0, 0, 0]);
    }

    /// <inheritdoc />
    public string Name => "dwa";

    /// <inheritdoc />
    public bool NeedsEveryTask => true;

    /// <inheritdoc />
    public IReadOnlyList<double> Backward(WeightingStep step)
    {
        var rows = step.TaskIds.Select(_state.Row).ToArray();
        var scaled = rows.Select(row => (row[Completed] >= 2 && row[MeanBefore] > 0 ? row[LastMean] / row[MeanBefore] : 1.0) / _temperature).ToArray();
        var weights = WeightMath.Softmax(scaled).Select(w => rows.Length * w).ToArray();
        step.BackwardWeighted(weights);

        var losses = step.LossValues();
        for (var i = 0; i < rows.Length; i++)
        {
            var row = rows[i];
            row[Sum] += losses[i];
            row[Count] += 1;
            if (row[Count] >= _window)
            {
                row[MeanBefore] = row[LastMean];
                row[LastMean] = row[Sum] / row[Count];
                row[Completed] += 1;
                row[Sum] = 0;
                row[Count] = 0;
            }
        }
        return weights;
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, double[]> GetState() => _state.Snapshot();

    /// <inheritdoc />
    public void SetState(IReadOnlyDictionary<string, double[]> state) => _state.Restore(state);
}
