namespace MtlHost.Core.Data;

/// <summary>
/// Hands out mini-batches of example indices: a fresh seeded shuffle each epoch, restarting when
/// the data runs out, so a small task can be sampled for as many steps as the run lasts. With
/// <see cref="LengthWindows"/> each epoch's shuffle is regrouped so that batches hold examples of similar length.
/// </summary>
public sealed class EpochSampler
{
    private readonly int _count;
    private readonly int _seed;
    private readonly LengthWindows? _grouping;
    private Random _random;
    private int[] _order;
    private int _position;

    /// <summary>Creates the sampler.</summary>
    /// <param name="count">Number of examples.</param>
    /// <param name="seed">Seed for the shuffles.</param>
    /// <param name="grouping">Groups each epoch's batches by length; <see langword="null"/> keeps the plain shuffle.</param>
    public EpochSampler(int count, int seed, LengthWindows? grouping = null)
    {
        if (count <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(count), "A task needs at least one training example.");
        }
        _count = count;
        _seed = seed;
        if (grouping is not null && grouping.Lengths.Count != count)
        {
            throw new ArgumentException($"The grouping knows {grouping.Lengths.Count} lengths for {count} examples.", nameof(grouping));
        }
        _grouping = grouping;
        _random = new Random(seed);
        _order = Shuffled(0);
    }

    /// <summary>How the batches are ordered, as a checkpoint records it.</summary>
    public string Description => _grouping?.Description ?? LengthWindows.ShuffledOrder;

    /// <summary>Completed passes over the data.</summary>
    public int Epoch { get; private set; }

    /// <summary>Indices of the current epoch handed out so far.</summary>
    public int Position => _position;

    /// <summary>
    /// Puts the sampler where an identically seeded one stood after <paramref name="epoch"/> completed passes and
    /// <paramref name="position"/> indices of the next: the shuffles are replayed from the seed, so a resumed run
    /// draws exactly the batches an uninterrupted one would.
    /// </summary>
    /// <param name="epoch">Completed passes.</param>
    /// <param name="position">Indices of the current pass already handed out; clamped to the data size.</param>
    public void Restore(int epoch, int position)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        _random = new Random(_seed);
        // Earlier epochs' shuffles are drawn only to move the generator on; only this epoch's order is arranged.
        for (var i = 0; i < epoch; i++)
        {
            NextShuffle();
        }
        _order = Shuffled(epoch);
        Epoch = epoch;
        _position = Math.Clamp(position, 0, _count);
    }

    /// <summary>The next batch of indices; a batch never spans two epochs.</summary>
    /// <param name="batchSize">Wanted batch size.</param>
    /// <returns>Between 1 and <paramref name="batchSize"/> indices.</returns>
    public ArraySegment<int> Next(int batchSize)
    {
        if (_position >= _count)
        {
            Epoch++;
            _order = Shuffled(Epoch);
            _position = 0;
        }
        var size = Math.Min(batchSize, _count - _position);
        var segment = new ArraySegment<int>(_order, _position, size);
        _position += size;
        return segment;
    }

    // The plain shuffle draws from one generator epoch after epoch, exactly as before grouping existed, so a run
    // without it keeps its batches; the grouping is a pure function of that shuffle and the epoch.
    private int[] Shuffled(int epoch)
    {
        var order = NextShuffle();
        return _grouping is null ? order : _grouping.Arrange(order, _seed, epoch);
    }

    private int[] NextShuffle()
    {
        var order = Enumerable.Range(0, _count).ToArray();
        _random.Shuffle(order);
        return order;
    }
}
