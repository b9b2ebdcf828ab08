namespace MtlHost.Core.Weighting;

/// <summary>
/// Adam (Kingma and Ba 2015) for one scalar parameter, in doubles, with torch.optim.Adam's defaults
/// (β1 0.9, β2 0.999, ε 1e-8) and its coupled L2 weight decay. The learned weights are a few
/// scalars per task, so their gradients are written out by hand here instead of keeping tensors and
/// an optimizer alive across steps.
/// </summary>
internal static class ScalarAdam
{
    private const double Beta1 = 0.9;
    private const double Beta2 = 0.999;
    private const double Epsilon = 1e-8;

    /// <summary>Number of slots a parameter takes in a state row: value, first moment, second moment, step count.</summary>
    public const int Slots = 4;

    /// <summary>One step on the parameter stored at <paramref name="offset"/> in <paramref name="row"/> (value, m, v, t).</summary>
    public static void Step(double[] row, int offset, double gradient, double learningRate, double weightDecay = 0)
    {
        var g = gradient + weightDecay * row[offset];
        var m = row[offset + 1] = Beta1 * row[offset + 1] + (1 - Beta1) * g;
        var v = row[offset + 2] = Beta2 * row[offset + 2] + (1 - Beta2) * g * g;
        var t = row[offset + 3] += 1;
        var mHat = m / (1 - Math.Pow(Beta1, t));
        var vHat = v / (1 - Math.Pow(Beta2, t));
        row[offset] -= learningRate * mHat / (Math.Sqrt(vHat) + Epsilon);
    }
}
