using TorchSharp;

namespace MtlHost.Abstractions;

/// <summary>Turns a head's outputs and the host's targets into one scalar loss.</summary>
public interface ITaskLoss
{
    /// <summary>Computes the mean loss of a batch.</summary>
    /// <param name="outputs">The head's outputs; shape as <see cref="TaskKind"/> documents.</param>
    /// <param name="targets">The targets on the same device; shape and type as <see cref="TaskKind"/> documents.</param>
    /// <returns>A scalar tensor that autograd can differentiate.</returns>
    torch.Tensor Compute(torch.Tensor outputs, torch.Tensor targets);
}
