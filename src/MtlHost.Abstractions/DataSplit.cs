namespace MtlHost.Abstractions;

/// <summary>The partitions a dataset adapter serves.</summary>
public enum DataSplit
{
    /// <summary>Examples the model learns from.</summary>
    Train,

    /// <summary>Examples used to evaluate during and after training, and to choose checkpoints.</summary>
    Validation,

    /// <summary>Held-out examples for the final report.</summary>
    Test,
}
