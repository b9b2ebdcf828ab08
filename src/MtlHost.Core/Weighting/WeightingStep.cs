using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MtlHost.Core.Weighting;

/// <summary>
/// What a <see cref="ILossWeighting"/> sees of one training step: each trained task's loss (with its
/// autograd graph), the shared representation each loss was computed from, and the shared parameters.
/// It also does the autograd work strategies have in common.
/// </summary>
public sealed class WeightingStep
{
    private readonly PerTaskGradientClip? _perTaskClip;
    private readonly ITaskGradientAveraging? _averaging;
    // This process's share of each loss's gradient (1/N of N processes): see ITaskGradientAveraging.
    private readonly double _share;
    private double[]? _lossValues;

    /// <summary>Creates the step.</summary>
    /// <param name="taskIds">The tasks trained this step, in a fixed order.</param>
    /// <param name="losses">Each task's scalar loss, with its graph; same order.</param>
    /// <param name="sharedParameters">Trainable parameters every task's loss depends on (the shared encoder).</param>
    /// <param name="representations">
    /// Each task's shared representation (the output of the shared part of the encoder), same order;
    /// empty when not available.
    /// </param>
    /// <param name="step">The run's step, zero-based.</param>
    /// <param name="random">A seeded random source for this step.</param>
    /// <param name="lossValues">
    /// The losses' values when the caller has already read them (reading a tensor's value waits for the
    /// device), or <see langword="null"/> to read them on first use.
    /// </param>
    /// <param name="perTaskClip">
    /// Clip each task's gradient before they are added up in <see cref="BackwardWeighted"/>, or <see langword="null"/> to
    /// leave clipping to the caller.
    /// </param>
    /// <param name="averaging">
    /// Across processes, averages <see cref="SharedGradients"/> and <see cref="RepresentationGradients"/> over them before a
    /// weighting sees them; <see langword="null"/> for one process. With N processes, every backward pass of the step
    /// produces this process's share of the gradient (its losses scaled by 1/N), so that the caller's sum of the
    /// parameters' gradients over the processes is their mean.
    /// </param>
    /// <exception cref="ArgumentException">The lists do not line up, or there is no task.</exception>
    public WeightingStep(IReadOnlyList<string> taskIds, IReadOnlyList<Tensor> losses, IReadOnlyList<Parameter> sharedParameters,
        IReadOnlyList<Tensor> representations, int step, Random random, IReadOnlyList<double>? lossValues = null,
        PerTaskGradientClip? perTaskClip = null, ITaskGradientAveraging? averaging = null)
    {
        _averaging = averaging;
        _share = averaging is null ? 1 : 1.0 / averaging.ProcessCount;
        // clip_{c/N}(g/N) = clip_c(g)/N: a share clipped at the share of the norm is the share of the clipped gradient.
        _perTaskClip = perTaskClip is null || _share == 1 ? perTaskClip : perTaskClip with { MaxNorm = perTaskClip.MaxNorm * _share };
        if (lossValues is not null && lossValues.Count != losses.Count)
        {
            throw new ArgumentException($"Got {lossValues.Count} loss value(s) for {losses.Count} loss(es).");
        }
        _lossValues = lossValues?.ToArray();
        if (taskIds.Count == 0 || taskIds.Count != losses.Count)
        {
            throw new ArgumentException($"A weighting step needs one loss per task; got {taskIds.Count} task(s) and {losses.Count} loss(es).");
        }
        if (representations.Count != 0 && representations.Count != losses.Count)
        {
            throw new ArgumentException($"Got {representations.Count} representation(s) for {losses.Count} loss(es).");
        }
        TaskIds = taskIds;
        Losses = losses;
        SharedParameters = sharedParameters;
        Representations = representations;
        Step = step;
        Random = random;
    }

    /// <summary>The tasks trained this step.</summary>
    public IReadOnlyList<string> TaskIds { get; }

    /// <summary>Each task's scalar loss.</summary>
    public IReadOnlyList<Tensor> Losses { get; }

    /// <summary>The shared parameters.</summary>
    public IReadOnlyList<Parameter> SharedParameters { get; }

    /// <summary>Each task's shared representation, or empty.</summary>
    public IReadOnlyList<Tensor> Representations { get; }

    /// <summary>The run's step, zero-based.</summary>
    public int Step { get; }

    /// <summary>A seeded random source for this step.</summary>
    public Random Random { get; }

    /// <summary>Number of tasks trained this step.</summary>
    public int Count => Losses.Count;

    /// <summary>The loss values, as given or read once from the tensors.</summary>
    /// <returns>One value per task.</returns>
    public IReadOnlyList<double> LossValues() =>
        _lossValues ??= Losses.Select(l => l.detach().to_type(ScalarType.Float64).item<double>()).ToArray();

    /// <summary>Whether the gradients were clipped task by task (<see cref="BackwardWeighted"/> with a per-task clip).</summary>
    public bool ClippedPerTask { get; private set; }

    /// <summary>
    /// One backward pass of Σ_i w_i·L_i; with a per-task clip, one pass per task: each task's gradient ∇L_i is clipped,
    /// then w_i·clip(∇L_i) is added to the others. Across N processes every gradient it leaves is this process's 1/N
    /// share (the losses and the clip norm scaled by 1/N).
    /// </summary>
    /// <param name="weights">One weight per task.</param>
    public void BackwardWeighted(IReadOnlyList<double> weights)
    {
        CheckCount(weights.Count);
        // With one task, clipping it is clipping the step's gradient: the caller's single clip does that without copies.
        if (_perTaskClip is { } clip && Count > 1)
        {
            for (var i = 0; i < Count; i++)
            {
                var index = i;
                // The step starts with zeroed gradients, so the first task has nothing to set aside.
                clip.Accumulate(() => Share(Losses[index]).backward(retain_graph: index < Count - 1), weights[index], setAside: index > 0);
            }
            ClippedPerTask = true;
            return;
        }
        using var scope = NewDisposeScope();
        Tensor? total = null;
        for (var i = 0; i < Count; i++)
        {
            var term = Losses[i] * weights[i];
            total = total is null ? term : total + term;
        }
        Share(total!).backward();
    }

    /// <summary>
    /// One backward pass per task. Every parameter outside <see cref="SharedParameters"/> (a task's
    /// head) gets the plain gradient of its own task's loss (across N processes, its 1/N share); the shared parameters' gradients are
    /// returned instead of accumulated, and their <c>grad</c> is left empty for
    /// <see cref="SetSharedCombination"/>.
    /// </summary>
    /// <returns>
    /// [K, P]: row i is ∂L_i/∂θ_shared, flattened in <see cref="SharedParameters"/> order; across processes, its mean over
    /// them (the heads' gradients stay this process's share, for the trainer to sum with the rest).
    /// </returns>
    public Tensor SharedGradients() => Averaged(ComputeSharedGradients);

    private Tensor ComputeSharedGradients()
    {
        var rows = new List<Tensor>(Count);
        using (var scope = NewDisposeScope())
        {
            for (var i = 0; i < Count; i++)
            {
                ZeroSharedGradients();
                Share(Losses[i]).backward(retain_graph: i < Count - 1);
                rows.Add(FlattenSharedGradients().MoveToOuterDisposeScope());
            }
            ZeroSharedGradients();
        }
        var matrix = stack(rows);
        foreach (var row in rows)
        {
            row.Dispose();
        }
        return matrix;
    }

    /// <summary>
    /// The gradient of each task's loss with respect to its own shared representation, summed over the
    /// batch and the token positions (tasks have their own inputs of different lengths). Leaves every
    /// <c>grad</c> untouched and keeps the graph for a later backward pass.
    /// </summary>
    /// <returns>[K, H]; across processes, its mean over them.</returns>
    /// <exception cref="InvalidOperationException">The step has no representations.</exception>
    public Tensor RepresentationGradients()
    {
        if (Representations.Count == 0)
        {
            throw new InvalidOperationException("This step carries no shared representations.");
        }
        return Averaged(ComputeRepresentationGradients);
    }

    // Every process reaches the averaging, the one whose backward pass threw included, so none waits for another.
    private Tensor Averaged(Func<Tensor> compute)
    {
        if (_averaging is null)
        {
            return compute();
        }
        Tensor rows;
        try
        {
            rows = compute();
        }
        catch (Exception e)
        {
            _averaging.Fail(e);
            throw;
        }
        _averaging.Sum(rows);
        return rows;
    }

    private Tensor ComputeRepresentationGradients()
    {
        using var scope = NewDisposeScope();
        var rows = new Tensor[Count];
        for (var i = 0; i < Count; i++)
        {
            var gradient = autograd.grad([Share(Losses[i])], [Representations[i]], retain_graph: true)[0];
            // sum(0L), not sum(0): a literal 0 binds to the sum(ScalarType) overload and sums everything into a Byte.
            rows[i] = gradient.reshape(-1, gradient.shape[^1]).sum(0L);
        }
        return stack(rows).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// One backward pass in which the shared parameters get Σ_i w_i·∂L_i/∂θ_shared while every other
    /// parameter (a task's head) gets the plain gradient of its own task's loss, as
    /// <see cref="SharedGradients"/> gives them. Used by strategies that weigh the tasks from
    /// <see cref="RepresentationGradients"/> (MGDA-UB): the weights act where the representation
    /// enters the shared encoder, so no per-task pass through the encoder is needed.
    /// </summary>
    /// <remarks>
    /// Backpropagates Σ_i [L_i + (w_i − 1)·⟨z_i, ∂L_i/∂z_i⟩] with ∂L_i/∂z_i held constant: the heads see
    /// Σ_i L_i, and the gradient reaching each representation z_i is w_i·∂L_i/∂z_i (across N processes, the whole
    /// objective is scaled by 1/N, so every gradient is this process's share). The extra cost is one pass through each
    /// head for ∂L_i/∂z_i.
    /// </remarks>
    /// <param name="weights">One weight per task.</param>
    /// <exception cref="InvalidOperationException">The step has no representations.</exception>
    public void BackwardThroughRepresentations(IReadOnlyList<double> weights)
    {
        CheckCount(weights.Count);
        if (Representations.Count == 0)
        {
            throw new InvalidOperationException("This step carries no shared representations.");
        }
        using var scope = NewDisposeScope();
        Tensor? total = null;
        for (var i = 0; i < Count; i++)
        {
            var gradient = autograd.grad([Losses[i]], [Representations[i]], retain_graph: true)[0].detach();
            var term = Losses[i] + (Representations[i] * gradient).sum() * (weights[i] - 1);
            total = total is null ? term : total + term;
        }
        Share(total!).backward();
    }

    /// <summary>
    /// Writes Σ_i w_i·g_i, the combination of the rows of <paramref name="rows"/>, into the shared parameters' <c>grad</c>;
    /// across N processes, its 1/N share, which the caller's sum over the processes completes as it completes the heads'
    /// shares (the share taken in the weights, not by a pass over the result).
    /// </summary>
    /// <param name="rows">[K, P], as <see cref="SharedGradients"/> returns them: the same on every process.</param>
    /// <param name="weights">One weight per task.</param>
    /// <exception cref="ArgumentException">The counts do not match the step's tasks or shared parameters.</exception>
    public void SetSharedCombination(Tensor rows, IReadOnlyList<double> weights)
    {
        CheckCount(weights.Count);
        using var scope = NewDisposeScope();
        var w = tensor(weights.Select(x => x * _share).ToArray(), ScalarType.Float64).to_type(rows.dtype).to(rows.device);
        WriteSharedGradient(w.unsqueeze(0).matmul(rows.detach()).squeeze(0));
    }

    private void WriteSharedGradient(Tensor gradient)
    {
        var total = SharedParameters.Sum(p => p.numel());
        if (gradient.dim() != 1 || gradient.shape[0] != total)
        {
            throw new ArgumentException($"The shared gradient must have {total} elements, but has shape [{string.Join(", ", gradient.shape)}].");
        }
        using var noGrad = no_grad();
        long offset = 0;
        foreach (var parameter in SharedParameters)
        {
            var n = parameter.numel();
            using var slice = gradient.narrow(0, offset, n).view(parameter.shape).to_type(parameter.dtype);
            var grad = parameter.grad;
            if (grad is null)
            {
                parameter.grad = slice.clone();
            }
            else
            {
                grad.copy_(slice);
            }
            offset += n;
        }
    }

    // Alone, the loss itself, so that one process computes exactly what it computed before processes were counted.
    private Tensor Share(Tensor loss) => _share == 1 ? loss : loss * _share;

    private Tensor FlattenSharedGradients()
    {
        var parts = SharedParameters.Select(p => p.grad is { } g ? g.detach().reshape(-1) : zeros(p.numel(), p.dtype, p.device)).ToList();
        // TorchSharp's cat of a single tensor returns that tensor, here a view of the grad that the next task's pass zeroes.
        return parts.Count == 1 ? parts[0].clone() : cat(parts, 0);
    }

    private void ZeroSharedGradients()
    {
        foreach (var parameter in SharedParameters)
        {
            parameter.grad?.zero_();
        }
    }

    private void CheckCount(int count)
    {
        if (count != Count)
        {
            throw new ArgumentException($"Expected {Count} weights, one per task, but got {count}.");
        }
    }
}
