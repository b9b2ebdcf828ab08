using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MtlHost.Core.Training;

/// <summary>
/// The AdamW optimizers of a joint run: one for the shared encoder, one per task head and one per encoder branch.
/// AdamW's update is per parameter, so this is the same optimisation as one optimizer over all of them, and a head can
/// join or leave the run without touching the encoder's state. Only what a step trained steps, as PyTorch skips a
/// parameter whose gradient is None. Biases and LayerNorm weights are not decayed, as in BERT.
/// </summary>
public sealed class TrainingOptimizers : IDisposable
{
    private readonly nn.Module _encoder;
    private readonly TrainingOptions _options;
    private readonly double _encoderLearningRate;
    private readonly AdamW _encoderOptimizer;
    private readonly SortedDictionary<string, (nn.Module Head, AdamW Optimizer)> _heads = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, (nn.Module Branch, AdamW Optimizer)> _branches = new(StringComparer.Ordinal);
    private double _factor = 1;

    /// <summary>Creates the encoder's optimizer over its trainable parameters.</summary>
    /// <param name="encoder">The shared encoder.</param>
    /// <param name="options">Learning rates and weight decay.</param>
    /// <param name="encoderLearningRate">Peak learning rate of the encoder and its branches.</param>
    public TrainingOptimizers(nn.Module encoder, TrainingOptions options, double encoderLearningRate)
    {
        _encoder = encoder;
        _options = options;
        _encoderLearningRate = encoderLearningRate;
        _encoderOptimizer = Create(Trainable(encoder), encoderLearningRate);
    }

    /// <summary>The encoder's learning rate now.</summary>
    public double EncoderLearningRate => _encoderOptimizer.ParamGroups.First().LearningRate;

    /// <summary>Creates the optimizer of a task's head.</summary>
    /// <param name="taskId">The task.</param>
    /// <param name="head">Its head.</param>
    public void AddHead(string taskId, nn.Module head) => AttachHead(taskId, head, Create(Trainable(head), _options.HeadLearningRate));

    /// <summary>Takes a head's optimizer out, its state intact.</summary>
    /// <param name="taskId">The task.</param>
    /// <returns>The optimizer; the caller owns it.</returns>
    public AdamW DetachHead(string taskId)
    {
        var optimizer = _heads[taskId].Optimizer;
        _heads.Remove(taskId);
        return optimizer;
    }

    /// <summary>Puts a head's optimizer (back) in, at the run's current learning rate.</summary>
    /// <param name="taskId">The task.</param>
    /// <param name="head">Its head.</param>
    /// <param name="optimizer">The optimizer; owned from now on.</param>
    public void AttachHead(string taskId, nn.Module head, AdamW optimizer)
    {
        _heads.Add(taskId, (head, optimizer));
        SetLearningRate(optimizer);
    }

    /// <summary>The optimizer of a task's head.</summary>
    /// <param name="taskId">The task.</param>
    /// <returns>Its optimizer.</returns>
    public AdamW HeadOptimizer(string taskId) => _heads[taskId].Optimizer;

    /// <summary>Creates the optimizer of a branch, unless it has no parameters.</summary>
    /// <param name="name">The branch name.</param>
    /// <param name="branch">The branch.</param>
    public void AddBranch(string name, nn.Module branch)
    {
        var parameters = branch.named_parameters().ToList();
        if (parameters.Count > 0)
        {
            var optimizer = Create(parameters, _encoderLearningRate);
            _branches.Add(name, (branch, optimizer));
            SetLearningRate(optimizer);
        }
    }

    /// <summary>Zeroes every gradient before a step.</summary>
    public void ZeroGradients()
    {
        _encoderOptimizer.zero_grad();
        foreach (var (_, optimizer) in _heads.Values.Concat(_branches.Values))
        {
            optimizer.zero_grad();
        }
    }

    /// <summary>
    /// Steps the encoder and only the heads and branches the step trained: one that was not sampled must not move with
    /// momentum and weight decay (TorchSharp's zero_grad zeroes a gradient rather than dropping it, so AdamW alone would
    /// step every head that ever had one).
    /// </summary>
    /// <param name="taskIds">The tasks the step trained.</param>
    /// <param name="branchNames">The branches their batches went through.</param>
    public void Step(IEnumerable<string> taskIds, IEnumerable<string> branchNames)
    {
        _encoderOptimizer.step();
        foreach (var taskId in taskIds.Distinct())
        {
            _heads[taskId].Optimizer.step();
        }
        foreach (var name in branchNames.Distinct())
        {
            if (_branches.TryGetValue(name, out var branch))
            {
                branch.Optimizer.step();
            }
        }
    }

    /// <summary>Sets every optimizer to its peak learning rate times <paramref name="factor"/> (the schedule's value at a step).</summary>
    /// <param name="factor">The schedule's factor.</param>
    public void SetLearningRateFactor(double factor)
    {
        _factor = factor;
        foreach (var optimizer in _heads.Values.Concat(_branches.Values).Select(h => h.Optimizer).Prepend(_encoderOptimizer))
        {
            SetLearningRate(optimizer);
        }
    }

    /// <summary>
    /// Writes the AdamW state of the encoder, of every head and of every branch under <paramref name="directory"/>:
    /// <c>encoder.bin</c>, <c>heads/&lt;task&gt;.bin</c>, <c>branches/&lt;name&gt;.bin</c>.
    /// </summary>
    /// <param name="directory">The folder (created).</param>
    /// <returns>The files written, relative to <paramref name="directory"/>, '/'-separated.</returns>
    public IReadOnlyList<string> Save(string directory)
    {
        var files = new List<string>();
        Directory.CreateDirectory(Path.Combine(directory, "heads"));
        OptimizerMoments.Save(Path.Combine(directory, "encoder.bin"), _encoderOptimizer, Named(Trainable(_encoder)));
        files.Add("encoder.bin");
        foreach (var (taskId, (head, optimizer)) in _heads)
        {
            var file = $"heads/{taskId}.bin";
            OptimizerMoments.Save(Path.Combine(directory, file), optimizer, Named(head.named_parameters()));
            files.Add(file);
        }
        foreach (var (name, (branch, optimizer)) in _branches)
        {
            Directory.CreateDirectory(Path.Combine(directory, "branches"));
            var file = $"branches/{name}.bin";
            OptimizerMoments.Save(Path.Combine(directory, file), optimizer, Named(branch.named_parameters()));
            files.Add(file);
        }
        return files;
    }

    /// <summary>Restores the encoder's AdamW state from a file written by <see cref="Save"/>.</summary>
    /// <param name="path">The <c>encoder.bin</c> moments file.</param>
    /// <returns>How many parameters got their state back.</returns>
    public int RestoreEncoder(string path) => OptimizerMoments.Restore(path, _encoderOptimizer, Named(Trainable(_encoder)));

    /// <summary>Restores a branch's AdamW state from a file written by <see cref="Save"/>; a branch without parameters has none.</summary>
    /// <param name="name">The branch name.</param>
    /// <param name="path">Its moments file.</param>
    public void RestoreBranch(string name, string path)
    {
        if (_branches.TryGetValue(name, out var branch))
        {
            OptimizerMoments.Restore(path, branch.Optimizer, Named(branch.Branch.named_parameters()));
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _encoderOptimizer.Dispose();
        foreach (var (_, optimizer) in _heads.Values.Concat(_branches.Values))
        {
            optimizer.Dispose();
        }
    }

    private void SetLearningRate(AdamW optimizer)
    {
        foreach (var group in optimizer.ParamGroups)
        {
            group.LearningRate = group.InitialLearningRate * _factor;
        }
    }

    private AdamW Create(IReadOnlyList<(string name, Parameter parameter)> parameters, double learningRate)
    {
        static bool Decays(string name) => !name.EndsWith("bias", StringComparison.Ordinal) && !name.Contains("LayerNorm", StringComparison.Ordinal);
        var groups = new List<AdamW.ParamGroup>
        {
            new(parameters.Where(p => Decays(p.name)).Select(p => p.parameter), learningRate, weight_decay: _options.WeightDecay),
            new(parameters.Where(p => !Decays(p.name)).Select(p => p.parameter), learningRate, weight_decay: 0),
        };
        return optim.AdamW(groups, learningRate);
    }

    private static List<(string name, Parameter parameter)> Trainable(nn.Module module) =>
        module.named_parameters().Where(p => p.parameter.requires_grad).ToList();

    private static IEnumerable<(string Name, Tensor Parameter)> Named(IEnumerable<(string name, Parameter parameter)> parameters) =>
        parameters.Select(p => (p.name, (Tensor)p.parameter));
}
