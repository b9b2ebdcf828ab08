using MtlHost.Core.Data;
using MtlHost.Core.Encoders;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MtlHost.Benchmarks;

/// <summary>
/// The baseline: a hand-written TorchSharp multi-task loop with no host machinery — same encoder,
/// same [CLS] → dropout → linear heads, same AdamW, schedule and clipping, same pre-tokenized data
/// and task proportions — written the way one would write it for one experiment.
/// </summary>
public sealed class BareTrainingLoop : IDisposable
{
    private readonly BertEncoder _encoder;
    private readonly Linear[] _heads;
    private readonly Dropout _dropout;
    private readonly IReadOnlyList<EncodedExample>[] _data;
    private readonly int[][] _orders;
    private readonly int[] _positions;
    private readonly Random _random;
    private readonly AdamW _optimizer;
    private readonly optim.lr_scheduler.LRScheduler _schedule;
    private readonly List<Parameter> _parameters;
    private readonly int _batchSize;
    private readonly int _padId;

    /// <summary>Creates the loop.</summary>
    /// <param name="encoder">The encoder.</param>
    /// <param name="data">Training examples per task.</param>
    /// <param name="labelCounts">Labels per task.</param>
    /// <param name="batchSize">Examples per batch.</param>
    /// <param name="padId">Id of [PAD].</param>
    /// <param name="seed">Seed.</param>
    public BareTrainingLoop(BertEncoder encoder, IReadOnlyList<EncodedExample>[] data, int[] labelCounts, int batchSize, int padId, int seed)
    {
        _encoder = encoder;
        _data = data;
        _batchSize = batchSize;
        _padId = padId;
        _random = new Random(seed);
        _heads = labelCounts.Select(n => nn.Linear(encoder.HiddenSize, n)).ToArray();
        _dropout = nn.Dropout(encoder.Config.HiddenDropout);
        _orders = data.Select(d => Enumerable.Range(0, d.Count).ToArray()).ToArray();
        foreach (var order in _orders)
        {
            _random.Shuffle(order);
        }
        _positions = new int[data.Length];
        _parameters = encoder.parameters().Concat(_heads.SelectMany(h => h.parameters())).ToList();
        _optimizer = optim.AdamW(_parameters, 5e-4, weight_decay: 0.01);
        _schedule = optim.lr_scheduler.LambdaLR(_optimizer, step => Math.Min(1.0, (step + 1) / 100.0));
        encoder.train();
    }

    /// <summary>One step: pick a task in proportion to its size, one batch, forward, backward, update.</summary>
    public void Step()
    {
        using var scope = NewDisposeScope();
        var task = PickTask();
        var examples = NextBatch(task);

        var length = examples.Max(e => e.InputIds.Length);
        var ids = new long[examples.Length * length];
        var types = new long[ids.Length];
        var mask = new long[ids.Length];
        Array.Fill(ids, _padId);
        for (var b = 0; b < examples.Length; b++)
        {
            for (var t = 0; t < examples[b].InputIds.Length; t++)
            {
                ids[b * length + t] = examples[b].InputIds[t];
                types[b * length + t] = examples[b].TokenTypeIds[t];
                mask[b * length + t] = 1;
            }
        }
        var labels = tensor(examples.Select(e => e.Label).ToArray());

        var hidden = _encoder.forward(tensor(ids, [examples.Length, length]), tensor(types, [examples.Length, length]), tensor(mask, [examples.Length, length]));
        var logits = _heads[task].forward(_dropout.forward(hidden.select(1, 0)));
        var loss = nn.functional.cross_entropy(logits, labels);

        _optimizer.zero_grad();
        loss.backward();
        nn.utils.clip_grad_norm_(_parameters, 1.0);
        _optimizer.step();
        _schedule.step();
    }

    private int PickTask()
    {
        long total = _data.Sum(d => (long)d.Count);
        var draw = _random.NextInt64(total);
        for (var i = 0; i < _data.Length; i++)
        {
            draw -= _data[i].Count;
            if (draw < 0)
            {
                return i;
            }
        }
        return _data.Length - 1;
    }

    private EncodedExample[] NextBatch(int task)
    {
        var order = _orders[task];
        if (_positions[task] >= order.Length)
        {
            _random.Shuffle(order);
            _positions[task] = 0;
        }
        var size = Math.Min(_batchSize, order.Length - _positions[task]);
        var batch = new EncodedExample[size];
        for (var i = 0; i < size; i++)
        {
            batch[i] = _data[task][order[_positions[task] + i]];
        }
        _positions[task] += size;
        return batch;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _optimizer.Dispose();
        foreach (var head in _heads)
        {
            head.Dispose();
        }
    }
}
