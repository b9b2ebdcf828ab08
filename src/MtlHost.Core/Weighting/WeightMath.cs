namespace MtlHost.Core.Weighting;

/// <summary>Small numeric helpers the strategies share.</summary>
internal static class WeightMath
{
    /// <summary>softmax(x), with the maximum subtracted so large inputs cannot overflow.</summary>
    public static double[] Softmax(IReadOnlyList<double> x)
    {
        var max = x.Max();
        var exps = x.Select(v => Math.Exp(v - max)).ToArray();
        var sum = exps.Sum();
        return exps.Select(e => e / sum).ToArray();
    }
}
