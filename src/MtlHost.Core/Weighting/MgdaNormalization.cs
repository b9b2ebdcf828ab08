namespace MtlHost.Core.Weighting;

/// <summary>
/// How MGDA scales each task's gradient before it looks for the min-norm point (Sener and Koltun's
/// <c>gradient_normalizers</c>; LibMTL's <c>mgda_gn</c>). The weights found are applied to the raw
/// gradients, as in Sener and Koltun's code.
/// </summary>
public enum MgdaNormalization
{
    /// <summary>No scaling: the paper's formulation and LibMTL's default.</summary>
    None,

    /// <summary>Divide by the gradient's L2 norm.</summary>
    L2,

    /// <summary>Divide by the task's loss.</summary>
    Loss,

    /// <summary>Divide by the task's loss times the gradient's L2 norm.</summary>
    LossPlus,
}
