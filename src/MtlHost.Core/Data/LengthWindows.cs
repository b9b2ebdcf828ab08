namespace MtlHost.Core.Data;

/// <summary>
/// Length-aware batching: how one epoch's shuffled order is regrouped so that each batch holds examples of
/// similar length, and dynamic padding pads far less. The shuffled order is cut into windows of
/// <see cref="WindowBatches"/> × <see cref="BatchSize"/> examples; each window is sorted by length and cut
/// into batches, and the batches of a window are put in a seeded random order. An example stays in the
/// window the shuffle put it in, so the grouping is local: which examples an epoch's first batches train on
/// is as random as without it, and only their order within a window changes.
/// </summary>
/// <param name="Lengths">Token length of every training example, by index.</param>
/// <param name="BatchSize">Examples per batch the order is arranged for.</param>
/// <param name="WindowBatches">Batches per window; at least 1.</param>
public sealed record LengthWindows(IReadOnlyList<int> Lengths, int BatchSize, int WindowBatches)
{
    /// <summary>How a checkpoint describes a batch order that is not grouped by length (and how one from before grouping existed reads).</summary>
    public const string ShuffledOrder = "shuffled";

    /// <summary>What a checkpoint records of the arrangement, so a resumed run can tell whether its order is the same.</summary>
    public string Description => Describe(WindowBatches, BatchSize);

    /// <summary>The checkpoint description of a task's batch order (<see cref="ShuffledOrder"/> when not grouped).</summary>
    /// <param name="windowBatches">Batches per window; 0 when batches are not grouped by length.</param>
    /// <param name="batchSize">Examples per batch.</param>
    /// <returns>The description.</returns>
    public static string Describe(int windowBatches, int batchSize) =>
        windowBatches <= 0 ? ShuffledOrder : $"length-window {windowBatches}x{batchSize}";

    /// <summary>
    /// Regroups one epoch's shuffled order. A function of its arguments alone (no hidden state), which is what keeps a
    /// resumed run's batches exact: replaying the epoch's shuffle and calling this again gives the same order.
    /// </summary>
    /// <param name="shuffled">The epoch's shuffled example indices; not changed.</param>
    /// <param name="seed">Seed of the task's batch order.</param>
    /// <param name="epoch">Which epoch (0-based), so that every epoch's batch order within a window differs.</param>
    /// <returns>
    /// The same indices, each once: every window's examples sorted by length (ties in shuffled order) and cut into
    /// batches, full batches in a seeded random order; the one short batch an epoch may end with stays last, so that
    /// taking <see cref="BatchSize"/> indices at a time from the start never mixes two batches.
    /// </returns>
    public int[] Arrange(int[] shuffled, int seed, int epoch)
    {
        ArgumentNullException.ThrowIfNull(shuffled);
        var batchSize = Math.Max(1, BatchSize);
        var window = Math.Max(1, WindowBatches) * batchSize;
        // Not System.HashCode: that is randomised per process, and the order must be the same in every run.
        var random = new Random(unchecked(seed * 1_000_003 + epoch * 7_919 + 0x4C57));
        var arranged = new int[shuffled.Length];
        var next = 0;
        for (var start = 0; start < shuffled.Length; start += window)
        {
            var size = Math.Min(window, shuffled.Length - start);
            // OrderBy is stable: examples of equal length keep their shuffled order.
            var sorted = new ArraySegment<int>(shuffled, start, size).OrderBy(i => Lengths[i]).ToArray();
            var fullBatches = size / batchSize;
            var batches = Enumerable.Range(0, fullBatches).ToArray();
            random.Shuffle(batches);
            foreach (var batch in batches)
            {
                Array.Copy(sorted, batch * batchSize, arranged, next, batchSize);
                next += batchSize;
            }
            Array.Copy(sorted, fullBatches * batchSize, arranged, next, size - fullBatches * batchSize);
            next += size - fullBatches * batchSize;
        }
        return arranged;
    }
}
