namespace MtlHost.Core.Data;

/// <summary>
/// Hands out mini-batches of example indices: a fresh seeded shuffle each epoch, restarting when
/// the data runs out, so a small task can be sampled for as many steps as the run lasts.
/// </summary>
public sealed class EpochSampler
{
    private readonly int _count;
    private readonly int _seed;
    private Random _random;
    private int[] _order;
    private int _position;

    /// <summary>Creates the sampler.</summary>
    /// <param name="count">Number of examples.</param>
    /// <param name="seed">Seed for the shuffles.</param>
    public EpochSampler(int count, int seed)
    {
        if (count <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(count), "A task needs at least one training example.");
        }
        _count = count;
        _seed = seed;
        _random = new Random(seed);
        _order = Shuffled();
    }

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
        _order = Shuffled();
        for (var i = 0; i < epoch; i++)
        {
            _order = Shuffled();
        }
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
            _order = Shuffled();
            _position = 0;
        }
        var size = Math.Min(batchSize, _count - _position);
        var segment = new ArraySegment<int>(_order, _position, size);
        _position += size;
        return segment;
    }

    private int[] Shuffled()
    {
        var order = Enumerable.Range(0, _count).ToArray();
        _random.Shuffle(order);
        return order;
    }
}
