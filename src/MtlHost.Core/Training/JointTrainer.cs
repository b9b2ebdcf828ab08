using System.Diagnostics;
using Microsoft.Extensions.Logging;
using MtlHost.Core.Encoders;
using MtlHost.Core.Sampling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MtlHost.Core.Training;

/// <summary>
/// Trains one shared encoder and every live task head together. Each step samples a task, runs
/// encoder → that task's head → its loss, and takes one AdamW step over the encoder and the heads.
/// A task whose code throws, or whose loss stays non-finite, is quarantined with its reason and
/// the other tasks train on.
/// </summary>
public sealed class JointTrainer : IDisposable
{
    private readonly BertEncoder _encoder;
    private readonly List<TaskRuntime> _tasks;
    private readonly ITaskSampler _sampler;
    private readonly TrainingOptions _options;
    private readonly Device _device;
    private readonly int _padId;
    private readonly ILogger _logger;
    private readonly Random _random;
    private readonly AdamW _optimizer;
    private readonly optim.lr_scheduler.LRScheduler _schedule;
    private readonly List<Parameter> _parameters;
    private readonly TaskEvaluator _evaluator;
    private readonly List<(int Step, IReadOnlyList<TaskScores> Scores)> _history = [];

    /// <summary>Creates the trainer; the encoder and heads must already be on <paramref name="device"/>.</summary>
    /// <param name="encoder">The shared encoder.</param>
    /// <param name="tasks">The tasks; at least one.</param>
    /// <param name="sampler">Chooses the task of each step.</param>
    /// <param name="options">Run options.</param>
    /// <param name="encoderLearningRate">Peak learning rate of the encoder.</param>
    /// <param name="device">Training device.</param>
    /// <param name="padId">Id of [PAD].</param>
    /// <param name="logger">Receives progress and quarantine events.</param>
    public JointTrainer(BertEncoder encoder, IReadOnlyList<TaskRuntime> tasks, ITaskSampler sampler, TrainingOptions options,
        double encoderLearningRate, Device device, int padId, ILogger logger)
    {
        if (tasks.Count == 0)
        {
            throw new ArgumentException("A joint training run needs at least one task.", nameof(tasks));
        }
        _encoder = encoder;
        _tasks = tasks.OrderBy(t => t.Id, StringComparer.Ordinal).ToList();
        _sampler = sampler;
        _options = options;
        _device = device;
        _padId = padId;
        _logger = logger;
        _random = new Random(options.Seed);
        _evaluator = new TaskEvaluator(encoder, device, padId, options.EvalBatchSize);

        // Biases and LayerNorm weights are not decayed, as in BERT.
        static bool Decays(string name) => !name.EndsWith("bias", StringComparison.Ordinal) && !name.Contains("LayerNorm", StringComparison.Ordinal);
        var encoderParameters = encoder.named_parameters().Where(p => p.parameter.requires_grad).ToList();
        var headParameters = _tasks.SelectMany(t => t.Head.named_parameters()).Where(p => p.parameter.requires_grad).ToList();
        _parameters = encoderParameters.Concat(headParameters).Select(p => p.parameter).ToList();
        var groups = new List<AdamW.ParamGroup>
        {
            new(encoderParameters.Where(p => Decays(p.name)).Select(p => p.parameter), encoderLearningRate, weight_decay: options.WeightDecay),
            new(encoderParameters.Where(p => !Decays(p.name)).Select(p => p.parameter), encoderLearningRate, weight_decay: 0),
            new(headParameters.Where(p => Decays(p.name)).Select(p => p.parameter), options.HeadLearningRate, weight_decay: options.WeightDecay),
            new(headParameters.Where(p => !Decays(p.name)).Select(p => p.parameter), options.HeadLearningRate, weight_decay: 0),
        };
        _optimizer = optim.AdamW(groups, encoderLearningRate);
        _schedule = optim.lr_scheduler.LambdaLR(_optimizer, LearningRateFactor);
    }

    /// <summary>Steps taken so far.</summary>
    public int Step { get; private set; }

    /// <summary>The tasks, in id order.</summary>
    public IReadOnlyList<TaskRuntime> Tasks => _tasks;

    /// <summary>The shared encoder.</summary>
    public BertEncoder Encoder => _encoder;

    /// <summary>Runs <see cref="TrainingOptions.Steps"/> steps (fewer when cancelled), then evaluates every task.</summary>
    /// <param name="cancellationToken">Stops after the current step.</param>
    /// <returns>Per-task losses, scores and states.</returns>
    /// <exception cref="InvalidOperationException">Every task was quarantined.</exception>
    public TrainingReport Train(CancellationToken cancellationToken = default)
    {
        _encoder.train();
        foreach (var task in _tasks)
        {
            task.Head.train();
        }

        var clock = new Stopwatch();
        var logClock = Stopwatch.StartNew();
        var logStep = Step;
        while (Step < _options.Steps && !cancellationToken.IsCancellationRequested)
        {
            clock.Start();
            RunStep();
            clock.Stop();

            if (_options.LogEvery > 0 && Step % _options.LogEvery == 0)
            {
                var rate = (Step - logStep) / logClock.Elapsed.TotalSeconds;
                _logger.LogInformation("step {Step}/{Steps} {Rate:F1} steps/s lr {LearningRate:E1} loss {Losses}", Step, _options.Steps, rate,
                    _optimizer.ParamGroups.First().LearningRate,
                    string.Join(" ", _tasks.Select(t => $"{t.Id}={t.SmoothedLoss:F3}")));
                logClock.Restart();
                logStep = Step;
            }
            if (_options.EvalEvery > 0 && Step % _options.EvalEvery == 0 && Step < _options.Steps)
            {
                Evaluate();
            }
        }

        var final = Evaluate();
        var reports = _tasks.Select(t => new TaskReport(t.Id, t.Descriptor.Version.ToString(), t.Source.PluginName, t.State,
            t.QuarantineReason, t.StepsTrained, t.ExamplesSeen, t.SmoothedLoss, final.FirstOrDefault(s => s.TaskId == t.Id))).ToList();
        return new TrainingReport(Step, clock.Elapsed.TotalSeconds, reports, _history);
    }

    /// <summary>Evaluates every live task on its validation split and records the scores in the history.</summary>
    /// <returns>The scores, in task-id order.</returns>
    public IReadOnlyList<TaskScores> Evaluate()
    {
        var scores = new List<TaskScores>();
        foreach (var task in _tasks.Where(t => t.State == TaskState.Training))
        {
            try
            {
                scores.Add(_evaluator.Evaluate(task, task.Validation));
            }
            catch (Exception e) when (IsPluginFault(e))
            {
                Quarantine(task, $"evaluation failed: {e.GetType().Name}: {e.Message}");
            }
        }
        _history.Add((Step, scores));
        foreach (var score in scores)
        {
            _logger.LogInformation("eval step {Step} {Task}: loss {Loss:F4} {Primary} {Score:F4} (trivial baseline {Baseline:F4})",
                Step, score.TaskId, score.Loss, score.PrimaryScore, score.Primary, score.Baseline);
        }
        return scores;
    }

    /// <summary>
    /// Runs one training step: samples a live task, trains it on one mini-batch, advances the
    /// learning-rate schedule. Whoever drives the trainer may change the run between two calls.
    /// </summary>
    /// <exception cref="InvalidOperationException">Every task has been quarantined.</exception>
    public void RunStep()
    {
        var live = _tasks.Where(t => t.State == TaskState.Training).ToList();
        if (live.Count == 0)
        {
            throw new InvalidOperationException("Every task has been quarantined; nothing is left to train: " +
                string.Join("; ", _tasks.Select(t => $"{t.Id}: {t.QuarantineReason}")));
        }
        TrainStep(live[_sampler.Next(live, Step, _random)]);
        Step++;
    }

    private void TrainStep(TaskRuntime task)
    {
        using var scope = NewDisposeScope();
        try
        {
            using var batch = task.NextTrainBatch(_options.BatchSize, _padId, _device);
            _optimizer.zero_grad();
            var hidden = _encoder.forward(batch.InputIds, batch.TokenTypeIds, batch.AttentionMask);
            var outputs = task.Head.forward(hidden, batch.AttentionMask);
            var loss = task.Loss.Compute(outputs, batch.Targets);
            var value = loss.to_type(ScalarType.Float64).item<double>();
            task.RecordStep(value, batch.Size);
            if (double.IsFinite(value))
            {
                loss.backward();
                if (_options.GradientClipNorm > 0)
                {
                    nn.utils.clip_grad_norm_(_parameters, _options.GradientClipNorm);
                }
                _optimizer.step();
            }
            else if (task.ConsecutiveNonFiniteLosses >= _options.MaxNonFiniteLosses)
            {
                Quarantine(task, $"its loss was {value} for {task.ConsecutiveNonFiniteLosses} steps in a row (last at step {Step}); " +
                                 "check the head's outputs and the loss for overflow or log(0).");
            }
        }
        catch (Exception e) when (IsPluginFault(e))
        {
            _optimizer.zero_grad();
            Quarantine(task, $"training step {Step} failed: {e.GetType().Name}: {e.Message}");
        }
        _schedule.step();
    }

    private void Quarantine(TaskRuntime task, string reason)
    {
        task.Quarantine(reason);
        _logger.LogError("Quarantined task {Task} from plugin {Plugin}: {Reason}. The other tasks keep training.",
            task.Id, task.Source.PluginName, reason);
    }

    private static bool IsPluginFault(Exception e) => e is not (OutOfMemoryException or OperationCanceledException);

    private double LearningRateFactor(int step)
    {
        var total = Math.Max(1, _options.Steps);
        var warmup = (int)Math.Round(_options.WarmupFraction * total);
        if (step < warmup)
        {
            return (step + 1.0) / (warmup + 1.0);
        }
        return Math.Max(0.0, (total - step) / (double)Math.Max(1, total - warmup));
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _optimizer.Dispose();
    }
}
