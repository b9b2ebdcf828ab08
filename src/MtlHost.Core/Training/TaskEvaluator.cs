using System.Runtime.CompilerServices;
using MtlHost.Core.Data;
using MtlHost.Core.Encoders;
using MtlHost.Core.Kinds;
using MtlHost.Core.Sharing;
using static TorchSharp.torch;

namespace MtlHost.Core.Training;

/// <summary>
/// Evaluates tasks on held-out examples: encoder and head in evaluation mode, no gradients,
/// examples batched by length so little compute goes to padding.
/// </summary>
public sealed class TaskEvaluator
{
    private readonly BertEncoder _encoder;
    private readonly Device _device;
    private readonly int _padId;
    private readonly int _batchSize;
    private readonly Func<string, EncoderBranch>? _branchOf;

    // The trivial baseline depends only on a task's data, so it is computed once per example list.
    // Weak keys: a replaced or removed task's data (and with it its plugin) must stay collectable.
    // Each list belongs to one task runtime, which also fixes the training data the baseline uses.
    private readonly ConditionalWeakTable<IReadOnlyList<EncodedExample>, StrongBox<double>> _baselines = new();

    /// <summary>Creates the evaluator.</summary>
    /// <param name="encoder">The shared encoder.</param>
    /// <param name="device">Device of encoder and heads.</param>
    /// <param name="padId">Id of [PAD].</param>
    /// <param name="batchSize">Examples per batch.</param>
    /// <param name="branchOf">The encoder branch of a task, or <see langword="null"/> when every task reads the shared encoder's output.</param>
    public TaskEvaluator(BertEncoder encoder, Device device, int padId, int batchSize, Func<string, EncoderBranch>? branchOf = null)
    {
        _branchOf = branchOf;
        _encoder = encoder;
        _device = device;
        _padId = padId;
        _batchSize = batchSize;
    }

    /// <summary>Evaluates <paramref name="task"/> on <paramref name="examples"/>.</summary>
    /// <param name="task">The task.</param>
    /// <param name="examples">Encoded examples (usually the validation split).</param>
    /// <returns>Loss, metric scores and the trivial baseline.</returns>
    public TaskScores Evaluate(TaskRuntime task, IReadOnlyList<EncodedExample> examples)
    {
        var wasTraining = _encoder.training;
        var branch = _branchOf?.Invoke(task.Id);
        _encoder.eval();
        branch?.eval();
        task.Head.eval();
        try
        {
            using var noGrad = no_grad();
            var metric = task.Metric;
            metric.Reset();
            double lossSum = 0;
            var order = Enumerable.Range(0, examples.Count).OrderBy(i => examples[i].InputIds.Length).ToArray();
            for (var start = 0; start < order.Length; start += _batchSize)
            {
                using var scope = NewDisposeScope();
                var slice = new ArraySegment<int>(order, start, Math.Min(_batchSize, order.Length - start)).Select(i => examples[i]).ToList();
                using var batch = BatchCollator.Collate(slice, task.Descriptor.Kind, _padId, _device);
                var hidden = branch is null
                    ? _encoder.forward(batch.InputIds, batch.TokenTypeIds, batch.AttentionMask)
                    : branch.Encode(_encoder, batch.InputIds, batch.TokenTypeIds, batch.AttentionMask).Hidden;
                var outputs = task.Head.forward(hidden, batch.AttentionMask);
                var loss = task.Loss.Compute(outputs, batch.Targets);
                lossSum += loss.to_type(ScalarType.Float64).item<double>() * slice.Count;
                metric.Update(outputs, batch.Targets);
            }
            // A copy: the metric's own dictionary may be a type of the plugin, which would keep it loaded.
            var scores = new Dictionary<string, double>(metric.Compute(), StringComparer.Ordinal);
            var baseline = _baselines.GetValue(examples, _ => new StrongBox<double>(Baseline(task, examples))).Value;
            return new TaskScores(task.Id, examples.Count, examples.Count == 0 ? double.NaN : lossSum / examples.Count,
                scores, metric.PrimaryScore, metric.HigherIsBetter, baseline);
        }
        finally
        {
            if (wasTraining)
            {
                _encoder.train();
                branch?.train();
                task.Head.train();
            }
        }
    }

    /// <summary>
    /// Primary score of the trivial predictor — the most frequent training label (per token for token
    /// tasks, per label for multi-label), or the training mean for regression — through the task's
    /// own metric, so the comparison uses the same formula as the model's score.
    /// </summary>
    private double Baseline(TaskRuntime task, IReadOnlyList<EncodedExample> examples)
    {
        if (examples.Count == 0)
        {
            return double.NaN;
        }
        using var scope = NewDisposeScope();
        var descriptor = task.Descriptor;
        var metric = task.Task.CreateMetric();
        metric.Reset();
        var batch = BatchCollator.Collate(examples, descriptor.Kind, _padId, CPU);
        var outputs = TaskKindHandler.For(descriptor.Kind).BaselineOutputs(task.Train, descriptor.OutputSize, batch.Targets);
        metric.Update(outputs, batch.Targets);
        return metric.Compute().TryGetValue(metric.PrimaryScore, out var value) ? value : double.NaN;
    }
}
