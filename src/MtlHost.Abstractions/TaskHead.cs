using TorchSharp;

namespace MtlHost.Abstractions;

/// <summary>
/// The task-specific module on top of the shared encoder: from hidden states <c>[B, T, H]</c> and the
/// attention mask <c>[B, T]</c> (1 for tokens, 0 for padding) to the task's outputs, shaped as
/// <see cref="TaskKind"/> documents. Register sub-modules with <c>RegisterComponents()</c>; the host
/// trains, saves and restores every parameter by name.
/// </summary>
public abstract class TaskHead : torch.nn.Module<torch.Tensor, torch.Tensor, torch.Tensor>
{
    /// <summary>Creates the head.</summary>
    /// <param name="name">Module name, shown in logs.</param>
    protected TaskHead(string name) : base(name)
    {
    }
}
