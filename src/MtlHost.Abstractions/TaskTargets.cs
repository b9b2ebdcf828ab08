namespace MtlHost.Abstractions;

/// <summary>Conventions shared by the host's target tensors and the SDK's losses and metrics.</summary>
public static class TaskTargets
{
    /// <summary>
    /// Target value of a position that must not count in loss or metric (padding, [CLS], [SEP],
    /// and every sub-token after the first of a word). Same value as PyTorch's default
    /// <c>ignore_index</c>.
    /// </summary>
    public const long IgnoreIndex = -100;
}
