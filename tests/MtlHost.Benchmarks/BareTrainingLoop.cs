using MtlHost.Core.Data;
using MtlHost.Core.Encoders;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MtlHost.Benchmarks;

/// <summary>
/// The baseline: a hand-written TorchSharp multi-task loop with no host machinery — same encoder,
/// same [CLS] → dropout → linear heads, same AdamW, schedule and clipping, same pre-tokenized data —
/// written the way one would write it for one experiment. It trains on the (task, examples) it is given,
/// so that it can replay exactly the batches the host drew and both sides do the same work.
/// </summary>
public sealed class BareTrainingLoop : IDisposable
{
    private readonly BertEncoder _encoder;
    private readonly Linear[] _heads;
    private readonly Dropout _dropout;
    private readonly IReadOnlyList<EncodedExample>[] _data;
    private readonly AdamW _optimizer;
    private readonly optim.lr_scheduler.LRScheduler _schedule;
    private readonly List<Parameter> _parameters;
    private readonly int _padId;

    /// <summary>Creates the loop.</summary>
    /// <param name="encoder">The encoder.</param>
    /// <param name="data">Training examples per task.</param>
    /// <param name="labelCounts">Labels per task.</param>
    /// <param name="padId">Id of [PAD].</param>
    public BareTrainingLoop(BertEncoder encoder, IReadOnlyList<EncodedExample>[] data, int[] labelCounts, int padId)
    {
        _encoder = encoder;
        _data = data;
        _padId = padId;
        _heads = labelCounts.Select(n => nn.Linear(encoder.HiddenSize, n)).ToArray();
        _dropout = nn.Dropout(encoder.Config.HiddenDropout);
        _parameters = encoder.parameters().Concat(_heads.SelectMany(h => h.parameters())).ToList();
        _optimizer = optim.AdamW(_parameters, 5e-4, weight_decay: 0.01);
        _schedule = optim.lr_scheduler.LambdaLR(_optimizer, step => Math.Min(1.0, (step + 1) / 100.0));
        encoder.train();
    }

    /// <summary>One step on one batch: pad, forward, backward, clip, update.</summary>
    /// <param name="task">Which task (index into the data given to the constructor).</param>
    /// <param name="indices">The batch: indices into that task's examples.</param>
    public void Step(int task, IReadOnlyList<int> indices)
    {
        using var scope = NewDisposeScope();
        var examples = new EncodedExample[indices.Count];
        for (var i = 0; i < examples.Length; i++)
        {
            examples[i] = _data[task][indices[i]];
        }

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
