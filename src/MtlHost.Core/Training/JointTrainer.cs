using System.Diagnostics;
using Microsoft.Extensions.Logging;
using MtlHost.Abstractions.Messages;
using MtlHost.Core.Distributed;
using MtlHost.Core.Encoders;
using MtlHost.Core.Sampling;
using MtlHost.Core.Sharing;
using MtlHost.Core.Weighting;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MtlHost.Core.Training;

/// <summary>
/// Trains one shared encoder and every live task head together. Each step the sampler picks one or
/// more tasks; for each, encoder → its head → its loss; the weighting turns the losses into
/// gradients; one AdamW step over the encoder and the heads follows. A task whose code throws, or
/// whose loss stays non-finite, is quarantined with its reason and the other tasks train on.
/// </summary>
public sealed class JointTrainer : IDisposable
{
    private readonly BertEncoder _encoder;
    private readonly TaskRoster _roster;
    private readonly ITaskSampler _sampler;
    private readonly ILossWeighting _weighting;
    private readonly ISharingStrategy _sharing;
    private readonly Func<string, string> _branchOf;
    private readonly SortedDictionary<string, EncoderBranch> _branches = new(StringComparer.Ordinal);
    private readonly TrainingOptions _options;
    private readonly Device _device;
    private readonly int _padId;
    private readonly ILogger _logger;
    private readonly TrainingOptimizers _optimizers;
    private readonly List<(int Step, IReadOnlyList<TaskScores> Scores)> _history = [];
    private readonly TaskEvaluator _evaluator;
    private readonly List<Parameter> _sharedParameters;
    private List<Parameter> _parameters = [];
    private DataParallelism? _dataParallel;

    /// <summary>Creates the trainer; the encoder and heads must already be on <paramref name="device"/>.</summary>
    /// <param name="encoder">The shared encoder.</param>
    /// <param name="tasks">The tasks; at least one.</param>
    /// <param name="sampler">Chooses the task of each step.</param>
    /// <param name="options">Run options.</param>
    /// <param name="encoderLearningRate">Peak learning rate of the encoder.</param>
    /// <param name="device">Training device.</param>
    /// <param name="padId">Id of [PAD].</param>
    /// <param name="logger">Receives progress and quarantine events.</param>
    /// <param name="weighting">Combines the losses of a step; <see langword="null"/> for EW (their sum).</param>
    /// <param name="sharing">How much of the encoder the tasks share; <see langword="null"/> for hard sharing (all of it).</param>
    /// <param name="branchOf">
    /// The branch a task uses, from its id (tasks of one group share a branch); <see langword="null"/> gives
    /// every task its own.
    /// </param>
    /// <exception cref="ArgumentException">There is no task, or the weighting needs every task each step and the sampler does not give that.</exception>
    public JointTrainer(BertEncoder encoder, IReadOnlyList<TaskRuntime> tasks, ITaskSampler sampler, TrainingOptions options,
        double encoderLearningRate, Device device, int padId, ILogger logger, ILossWeighting? weighting = null,
        ISharingStrategy? sharing = null, Func<string, string>? branchOf = null)
    {
        if (tasks.Count == 0)
        {
            throw new ArgumentException("A joint training run needs at least one task.", nameof(tasks));
        }
        _weighting = weighting ?? new EqualWeighting();
        if (_weighting.NeedsEveryTask && sampler is not AllTasksSampler)
        {
            throw new ArgumentException($"The '{_weighting.Name}' weighting compares the tasks within a step, so every step needs a batch of " +
                                        $"every task: use the '{SamplerCatalog.AllTasks}' sampler, not '{sampler.Name}'.", nameof(sampler));
        }
        _sharing = sharing ?? new HardSharing();
        _sharing.Validate(encoder.Config);
        _branchOf = branchOf ?? (id => id);
        _encoder = encoder;
        _sampler = sampler;
        _options = options;
        _device = device;
        _padId = padId;
        _logger = logger;
        _evaluator = new TaskEvaluator(encoder, device, padId, options.EvalBatchSize, BranchOf);

        _optimizers = new TrainingOptimizers(encoder, options, encoderLearningRate);
        _optimizers.SetLearningRateFactor(options.LearningRateFactor(Step));

        // Only what every task's loss goes through (never the pooler, nor the layers top-layer sharing copies):
        // the parameters gradient-based weightings compare the tasks on.
        _sharedParameters = _sharing.UsedSharedParameters(encoder).Where(p => p.requires_grad).ToList();
        _roster = new TaskRoster(tasks, _optimizers, Joining, RefreshParameters);
        foreach (var task in _roster.Tasks)
        {
            BranchOf(task.Id);
        }
        RefreshParameters();
    }

    /// <summary>
    /// Makes this trainer one of several processes training together (data parallelism): rank 0's weights are copied
    /// to every process now, each step trains every process on its own shard of the same tasks' batches, the losses
    /// are averaged before they are recorded and weighted, and the gradients are averaged before clipping and the
    /// optimizer step, so every process takes the same step. Call it on every process after a resumed run is restored
    /// and before the first step; the set of tasks must not change afterwards.
    /// </summary>
    /// <param name="group">The processes.</param>
    /// <param name="bucketBytes">Largest message of the gradient averaging.</param>
    /// <remarks>
    /// Tasks may be added, replaced or removed between two steps afterwards, as long as every process does the same (hot
    /// reload under MPI): the gradient buckets are made again, on every process, at the next step. A task whose code fails
    /// on one process is quarantined on every process, with that process's reason.
    /// </remarks>
    public void TrainWith(IProcessGroup group, long bucketBytes = GradientBuckets.DefaultBucketBytes)
    {
        if (group.Size == 1)
        {
            return;
        }
        var modules = new List<nn.Module> { _encoder };
        modules.AddRange(_roster.Tasks.Select(t => (nn.Module)t.Head));
        modules.AddRange(_branches.Values);
        _dataParallel = new DataParallelism(group, () => _parameters, bucketBytes);
        _dataParallel.Buckets.BroadcastParameters(modules.SelectMany(m => m.parameters().Cast<Tensor>().Concat(m.buffers())).ToList());
    }

    /// <summary>Time this process spent in the collectives of its steps (waiting for the others included); zero alone.</summary>
    public TimeSpan CommunicationTime => _dataParallel?.CommunicationTime ?? TimeSpan.Zero;

    /// <summary>The part of <see cref="CommunicationTime"/> spent averaging the gradients (their transfer and copies); zero alone.</summary>
    public TimeSpan GradientAveragingTime => _dataParallel?.GradientAveragingTime ?? TimeSpan.Zero;

    /// <summary>Steps taken so far.</summary>
    public int Step { get; private set; }

    /// <summary>Raised on the training thread after every step.</summary>
    public event Action<TrainingStepRecord>? StepCompleted;

    /// <summary>Raised on the training thread after every evaluation, with the step and the scores.</summary>
    public event Action<int, IReadOnlyList<TaskScores>>? Evaluated;

    /// <summary>The tasks in the run, in id order (the <see cref="Roster"/>'s).</summary>
    public IReadOnlyList<TaskRuntime> Tasks => _roster.Tasks;

    /// <summary>The tasks in the run: add, replace, detach and re-attach them here, between two steps.</summary>
    public TaskRoster Roster => _roster;

    /// <summary>The shared encoder.</summary>
    public BertEncoder Encoder => _encoder;

    /// <summary>How the tasks of a step are chosen.</summary>
    public ITaskSampler Sampler => _sampler;

    /// <summary>How the losses of a step are combined.</summary>
    public ILossWeighting Weighting => _weighting;

    /// <summary>How much of the encoder the tasks share.</summary>
    public ISharingStrategy Sharing => _sharing;

    /// <summary>
    /// The task-specific encoder parts, by branch name. A branch outlives its tasks: when a task leaves
    /// the run its branch stays (and is checkpointed), and a task that comes back finds it again.
    /// </summary>
    public IReadOnlyList<EncoderBranch> Branches => _branches.Values.ToList();

    /// <summary>The branch of a task, made from the shared encoder the first time the task's branch is needed.</summary>
    /// <param name="taskId">The task.</param>
    /// <returns>Its branch.</returns>
    public EncoderBranch BranchOf(string taskId) => BranchNamed(_branchOf(taskId));

    /// <summary>A branch by its name (a task id or a task group), made from the shared encoder the first time it is needed.</summary>
    /// <param name="name">The branch name.</param>
    /// <returns>The branch.</returns>
    public EncoderBranch BranchNamed(string name)
    {
        if (!_branches.TryGetValue(name, out var branch))
        {
            branch = _sharing.CreateBranch(name, _encoder);
            // A branch is task-specific like a head: it trains even when the shared encoder is frozen.
            foreach (var parameter in branch.parameters())
            {
                parameter.requires_grad = true;
            }
            _optimizers.AddBranch(name, branch);
            _branches.Add(name, branch);
            RefreshParameters();
        }
        return branch;
    }

    /// <summary>Runs <see cref="TrainingOptions.Steps"/> steps (fewer when cancelled), then evaluates every task.</summary>
    /// <param name="cancellationToken">Stops after the current step.</param>
    /// <returns>Per-task losses, scores and states.</returns>
    /// <exception cref="InvalidOperationException">Every task was quarantined.</exception>
    public TrainingReport Train(CancellationToken cancellationToken = default) => Train(null, cancellationToken);

    /// <summary>
    /// Runs <see cref="TrainingOptions.Steps"/> steps (fewer when cancelled), calling
    /// <paramref name="betweenSteps"/> on this thread before each step — the safe point where tasks may
    /// be added, replaced or removed — then evaluates every task.
    /// </summary>
    /// <param name="betweenSteps">Called before every step, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Stops after the current step.</param>
    /// <returns>Per-task losses, scores and states.</returns>
    /// <exception cref="InvalidOperationException">Every task was quarantined.</exception>
    public TrainingReport Train(Action? betweenSteps, CancellationToken cancellationToken = default) =>
        Train(betweenSteps, null, cancellationToken);

    /// <summary>
    /// Runs <see cref="TrainingOptions.Steps"/> steps as <see cref="Train(Action?, CancellationToken)"/> does,
    /// and hands every evaluation taken every <see cref="TrainingOptions.EvalEvery"/> steps to
    /// <paramref name="afterEvaluation"/>, which may end training early by returning <see langword="true"/>.
    /// </summary>
    /// <param name="betweenSteps">Called before every step, or <see langword="null"/>.</param>
    /// <param name="afterEvaluation">Sees each periodic evaluation (the step, the scores); returns whether to stop.</param>
    /// <param name="cancellationToken">Stops after the current step.</param>
    /// <returns>Per-task losses, scores and states.</returns>
    /// <exception cref="InvalidOperationException">Every task was quarantined.</exception>
    public TrainingReport Train(Action? betweenSteps, Func<int, IReadOnlyList<TaskScores>, bool>? afterEvaluation,
        CancellationToken cancellationToken = default)
    {
        _encoder.train();
        foreach (var task in _roster.Tasks)
        {
            task.Head.train();
        }
        foreach (var branch in _branches.Values)
        {
            branch.train();
        }

        var clock = new Stopwatch();
        var logClock = Stopwatch.StartNew();
        var logStep = Step;
        while (_options.HasStepsLeft(Step) && !cancellationToken.IsCancellationRequested)
        {
            betweenSteps?.Invoke();
            clock.Start();
            RunStep();
            clock.Stop();

            if (_options.LogEvery > 0 && Step % _options.LogEvery == 0)
            {
                var rate = (Step - logStep) / logClock.Elapsed.TotalSeconds;
                _logger.LogInformation("step {Step}/{Steps} {Rate:F1} steps/s lr {LearningRate:E1} loss {Losses}", Step, _options.StepBudgetText, rate,
                    _optimizers.EncoderLearningRate,
                    string.Join(" ", _roster.Tasks.Select(t => $"{t.Id}={t.SmoothedLoss:F3}" + (_weighting is EqualWeighting ? "" : $" (w {t.LossWeight:F2})"))));
                logClock.Restart();
                logStep = Step;
            }
            if (_options.EvalEvery > 0 && Step % _options.EvalEvery == 0 && _options.HasStepsLeft(Step))
            {
                var scores = Evaluate();
                if (afterEvaluation?.Invoke(Step, scores) == true)
                {
                    _logger.LogInformation("Stopping early at step {Step}", Step);
                    break;
                }
            }
        }

        var final = Evaluate();
        var reports = Tasks.Select(t => new TaskReport(t.Id, t.Descriptor.Version.ToString(), t.Source.PluginName, t.State,
            t.QuarantineReason, t.StepsTrained, t.ExamplesSeen, t.SmoothedLoss, final.FirstOrDefault(s => s.TaskId == t.Id))).ToList();
        return new TrainingReport(Step, clock.Elapsed.TotalSeconds, reports, _history);
    }

    /// <summary>Evaluates every live task on its validation split and records the scores in the history.</summary>
    /// <returns>The scores, in task-id order.</returns>
    public IReadOnlyList<TaskScores> Evaluate()
    {
        var scores = new List<TaskScores>();
        var live = Tasks.Where(t => t.State == TaskState.Training).ToList();
        var failures = new string?[live.Count];
        for (var i = 0; i < live.Count; i++)
        {
            try
            {
                scores.Add(_evaluator.Evaluate(live[i], live[i].Validation));
            }
            catch (Exception e) when (IsPluginFault(e))
            {
                failures[i] = $"evaluation failed: {ExceptionChain.Describe(e)}";
            }
        }
        // Every process evaluates every task; one that fails on any of them leaves the run on all.
        failures = _dataParallel?.Agree(failures) ?? failures;
        for (var i = 0; i < live.Count; i++)
        {
            if (failures[i] is { } reason)
            {
                Quarantine(live[i], reason);
                scores.RemoveAll(s => s.TaskId == live[i].Id);
            }
        }
        _history.Add((Step, scores));
        Evaluated?.Invoke(Step, scores);
        foreach (var score in scores)
        {
            _logger.LogInformation("eval step {Step} {Task}: loss {Loss:F4} {Primary} {Score:F4} (trivial baseline {Baseline:F4})",
                Step, score.TaskId, score.Loss, score.PrimaryScore, score.Primary, score.Baseline);
        }
        return scores;
    }

    /// <summary>
    /// Runs one training step: samples live tasks, trains them on one mini-batch each, advances the
    /// learning-rate schedule. Whoever drives the trainer may change the run between two calls.
    /// </summary>
    /// <exception cref="InvalidOperationException">Every task has been quarantined.</exception>
    public void RunStep()
    {
        var tasks = _roster.Tasks;
        var live = tasks.Where(t => t.State == TaskState.Training).ToList();
        if (live.Count == 0)
        {
            throw new InvalidOperationException("Every task has been quarantined; nothing is left to train: " +
                string.Join("; ", tasks.Select(t => $"{t.Id}: {t.QuarantineReason}")));
        }

        // Seeded by the run's seed and the step alone: the draw does not depend on what ran before,
        // so a resumed run or a task that joins mid-run changes nothing else.
        var random = new Random(unchecked(_options.Seed * 1_000_003 + Step));
        // Dropout draws from torch's global generator; reseeding it from (seed, step) makes every step's masks a
        // function of the step alone, so a run resumed from a checkpoint needs no generator state to continue exactly.
        var torchSeed = unchecked((long)_options.Seed * 1_000_003 + Step) ^ 0x5DEECE66DL;
        var chosen = _sampler.Next(live.Select(t => t.Train.Count).ToList(), Step, _options.Steps, random);
        var learningRate = _optimizers.EncoderLearningRate;
        var clock = Stopwatch.StartNew();
        List<TaskStepRecord> records;
        lock (TorchGenerator.Lock)
        {
            manual_seed(torchSeed);
            if (_device.type == DeviceType.CUDA)
            {
                cuda.manual_seed_all(torchSeed);
            }
            records = TrainStep(chosen.Select(i => live[i]).ToList(), random);
        }
        StepCompleted?.Invoke(new TrainingStepRecord(Step, _options.StepBudget, clock.Elapsed.TotalSeconds, learningRate, records));
    }

    private List<TaskStepRecord> TrainStep(IReadOnlyList<TaskRuntime> tasks, Random random)
    {
        var records = new List<TaskStepRecord>(tasks.Count);
        using var scope = NewDisposeScope();
        _optimizers.ZeroGradients();
        var trained = new List<TaskRuntime>(tasks.Count);
        var losses = new List<Tensor>(tasks.Count);
        var lossValues = new List<double>(tasks.Count);
        var representations = new List<Tensor>(tasks.Count);
        var batchSizes = new List<int>(tasks.Count);
        var stepped = new List<(TaskRuntime Task, Tensor Loss, double Value, Tensor Shared, long Size)>(tasks.Count);
        var failures = new string?[tasks.Count];
        for (var index = 0; index < tasks.Count; index++)
        {
            var task = tasks[index];
            try
            {
                var batch = _dataParallel is { } parallel
                    ? task.NextTrainBatch(_options.BatchSize, _padId, _device, parallel.Group.Rank, parallel.Group.Size)
                    : task.NextTrainBatch(_options.BatchSize, _padId, _device);
                var encoded = BranchOf(task.Id).Encode(_encoder, batch.InputIds, batch.TokenTypeIds, batch.AttentionMask);
                var outputs = task.Head.forward(encoded.Hidden, batch.AttentionMask);
                var loss = task.Loss.Compute(outputs, batch.Targets);
                stepped.Add((task, loss, loss.to_type(ScalarType.Float64).item<double>(), encoded.Shared, batch.Size));
            }
            catch (Exception e) when (IsPluginFault(e))
            {
                failures[index] = $"training step {Step} failed: {ExceptionChain.Describe(e)}";
            }
        }
        // Across processes, a task that failed on any of them is quarantined on all, so that they reduce the same losses.
        var agreed = _dataParallel?.Agree(failures) ?? failures;
        for (var i = 0; i < tasks.Count; i++)
        {
            if (agreed[i] is { } reason)
            {
                Quarantine(tasks[i], reason);
                stepped.RemoveAll(s => s.Task == tasks[i]);
            }
        }

        // Across processes, every one records and weighs the mean loss, so that they agree on which task trained and how much.
        var values = stepped.Select(s => s.Value).ToArray();
        var shards = _dataParallel?.Group.Size ?? 1;
        if (_dataParallel is { } group)
        {
            values = group.ReduceLosses(values);
        }
        for (var i = 0; i < stepped.Count; i++)
        {
            var (task, loss, _, shared, size) = stepped[i];
            var value = values[i];
            task.RecordStep(value, size * shards);
            if (double.IsFinite(value))
            {
                trained.Add(task);
                losses.Add(loss);
                lossValues.Add(value);
                representations.Add(shared);
                batchSizes.Add((int)size);
            }
            else if (task.ConsecutiveNonFiniteLosses >= _options.MaxNonFiniteLosses)
            {
                Quarantine(task, $"its loss was {value} for {task.ConsecutiveNonFiniteLosses} steps in a row (last at step {Step}); " +
                                 "check the head's outputs and the loss for overflow or log(0).");
            }
        }

        if (trained.Count > 0)
        {
            // Every process asks once whether any backward pass failed; once none did, what fails is host code, not a plugin's.
            var asked = false;
            var confirmed = false;
            try
            {
                var mode = _options.GradientClipping.ToLowerInvariant();
                var perTaskClip = mode == GradientClipping.PerTask && _options.GradientClipNorm > 0
                    ? new PerTaskGradientClip(_parameters, _options.GradientClipNorm)
                    : null;
                var weightingStep = new WeightingStep(trained.Select(t => t.Id).ToList(), losses, _sharedParameters,
                    representations, Step, random, lossValues, perTaskClip, _dataParallel);
                var weights = _weighting.Backward(weightingStep);
                asked = true;
                if (_dataParallel?.AnyBackwardFailed(false) == true)
                {
                    throw new FailedOnAnotherRankException($"Step {Step}'s backward pass");
                }
                confirmed = true;
                // Every process clips and steps the same averaged gradient: the sum of the processes' shares.
                _dataParallel?.SumGradients();
                for (var i = 0; i < trained.Count; i++)
                {
                    trained[i].LossWeight = weights[i];
                    records.Add(new TaskStepRecord(trained[i].Id, lossValues[i], weights[i], batchSizes[i]));
                }
                // A gradient-based weighting combines the tasks' gradients itself, so per-task clipping cannot apply
                // before it combines them: it falls back to clipping the combined gradient.
                var clipCombined = mode == GradientClipping.Global || (mode == GradientClipping.PerTask && !weightingStep.ClippedPerTask);
                if (clipCombined && _options.GradientClipNorm > 0)
                {
                    nn.utils.clip_grad_norm_(_parameters, _options.GradientClipNorm);
                }
                _optimizers.Step(trained.Select(t => t.Id), trained.Select(t => _branchOf(t.Id)));
            }
            catch (Exception e) when (IsPluginFault(e) && !confirmed)
            {
                if (!asked)
                {
                    // Every process comes here together: the others learn now that this one failed.
                    _dataParallel?.AnyBackwardFailed(true);
                }
                // The backward pass runs through the plugins' heads and losses: find whose fails, take it
                // out, and skip this step's update rather than apply a partial gradient.
                _logger.LogError("Step {Step}: the backward pass failed ({Error}); looking for the task whose code fails", Step, e.Message);
                var culprits = new string?[trained.Count];
                for (var i = 0; i < trained.Count; i++)
                {
                    try
                    {
                        losses[i].backward(retain_graph: true);
                    }
                    catch (Exception taskError) when (IsPluginFault(taskError))
                    {
                        culprits[i] = $"training step {Step} failed in the backward pass: {ExceptionChain.Describe(taskError)}";
                    }
                }
                culprits = _dataParallel?.Agree(culprits) ?? culprits;
                for (var i = 0; i < trained.Count; i++)
                {
                    if (culprits[i] is { } reason)
                    {
                        Quarantine(trained[i], reason);
                    }
                }
                _optimizers.ZeroGradients();
                records.Clear();
                if (culprits.All(c => c is null))
                {
                    // Every task's own backward pass works, so the fault is the weighting's: host code, not a plugin to quarantine.
                    throw;
                }
            }
        }
        Step++;
        // The schedule is a function of the run's step, so a head that joins mid-run gets the same rate as the rest.
        _optimizers.SetLearningRateFactor(_options.LearningRateFactor(Step));
        return records;
    }

    private void Quarantine(TaskRuntime task, string reason)
    {
        // The plugin's own message may name a file of a hot reload shadow copy.
        reason = task.Source.ForAuthor(reason);
        task.Quarantine(reason);
        _logger.LogError("Quarantined task {Task} from plugin {Plugin}: {Reason}. The other tasks keep training.",
            task.Id, task.Source.PluginName, reason);
    }

    private static bool IsPluginFault(Exception e) => e is not (OutOfMemoryException or OperationCanceledException);

    /// <summary>
    /// Continues a run from a checkpoint taken after <paramref name="step"/> steps: the step counter and with it
    /// the learning-rate schedule and the seeds of task sampling and dropout.
    /// </summary>
    /// <param name="step">Steps the checkpointed run had taken.</param>
    public void ResumeAt(int step)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        Step = step;
        _optimizers.SetLearningRateFactor(_options.LearningRateFactor(Step));
    }

    /// <summary>The optimizers of the encoder, the heads and the branches: their state goes into a resumable checkpoint.</summary>
    public TrainingOptimizers Optimizers => _optimizers;

    /// <summary>Restores a branch's weights and, when given, its AdamW state; the branch is made if no task in the run has needed it yet.</summary>
    /// <param name="name">The branch name.</param>
    /// <param name="weightsPath">The branch's weights file.</param>
    /// <param name="momentsPath">Its moments file, or <see langword="null"/>.</param>
    public void RestoreBranch(string name, string weightsPath, string? momentsPath)
    {
        BranchNamed(name).load(weightsPath);
        if (momentsPath is not null)
        {
            _optimizers.RestoreBranch(name, momentsPath);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _dataParallel?.Dispose();
        _optimizers.Dispose();
        foreach (var branch in _branches.Values)
        {
            branch.Dispose();
        }
    }

    // A task that joins a started run gets its branch now, and trains like the rest if the run is training.
    private void Joining(TaskRuntime task)
    {
        var branch = BranchOf(task.Id);
        if (_encoder.training)
        {
            task.Head.train();
            branch.train();
        }
    }

    // Clipping sees the encoder, every live head in task-id order, and the branches, as one optimizer would.
    private void RefreshParameters()
    {
        _parameters = _encoder.parameters().Where(p => p.requires_grad)
            .Concat(_roster.Tasks.SelectMany(t => t.Head.parameters().Where(p => p.requires_grad)))
            .Concat(_branches.Values.SelectMany(b => b.parameters())).ToList();
        _dataParallel?.ParametersChanged();
    }
}
