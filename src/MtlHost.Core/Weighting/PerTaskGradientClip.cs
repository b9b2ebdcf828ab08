using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MtlHost.Core.Weighting;

/// <summary>
/// Clips each task's gradient to a norm before the tasks' gradients are added up, so that with K tasks in a step each
/// still moves the shared encoder as much as it would alone (one clip over the sum shrinks every task's share as K grows).
/// </summary>
/// <param name="Parameters">Every trainable parameter of the step, over which a task's gradient norm is taken.</param>
/// <param name="MaxNorm">Largest norm of one task's gradient.</param>
public sealed record PerTaskGradientClip(IReadOnlyList<Parameter> Parameters, double MaxNorm)
{
    /// <summary>
    /// Runs <paramref name="backward"/> for one task with the gradients accumulated so far set aside, clips what it
    /// produced, scales it by the task's <paramref name="weight"/>, then adds the set-aside gradients back: the weighting
    /// still decides each task's share, of gradients that all start from the same bound.
    /// </summary>
    /// <param name="backward">One task's backward pass of its unweighted loss.</param>
    /// <param name="weight">The task's weight.</param>
    /// <param name="setAside">Whether gradients accumulated so far may be non-zero and must be set aside.</param>
    public void Accumulate(Action backward, double weight, bool setAside = true)
    {
        using var scope = NewDisposeScope();
        var saved = new Tensor?[Parameters.Count];
        using (no_grad())
        {
            for (var i = 0; setAside && i < Parameters.Count; i++)
            {
                if (Parameters[i].grad is { } grad)
                {
                    saved[i] = grad.clone();
                    grad.zero_();
                }
            }
        }
        backward();
        nn.utils.clip_grad_norm_(Parameters, MaxNorm);
        using (no_grad())
        {
            for (var i = 0; i < Parameters.Count; i++)
            {
                var grad = Parameters[i].grad;
                if (grad is not null && weight != 1.0)
                {
                    grad.mul_(weight);
                }
                if (saved[i] is { } before)
                {
                    grad!.add_(before);
                }
            }
        }
    }
}
