using static TorchSharp.torch;

namespace MtlHost.Abstractions;

/// <summary>Mean squared error or Huber loss of predictions <c>[B]</c> against float targets <c>[B]</c>.</summary>
public sealed class RegressionLoss : ITaskLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="function">Which loss.</param>
    /// <param name="huberDelta">Where the Huber loss turns linear (ignored for mean squared error); positive.</param>
    public RegressionLoss(RegressionLossFunction function = RegressionLossFunction.MeanSquaredError, double huberDelta = 1.0)
    {
        if (!Enum.IsDefined(function))
        {
            throw new ArgumentOutOfRangeException(nameof(function), function, "Unknown regression loss.");
        }
        if (!(huberDelta > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(huberDelta), huberDelta, "The Huber delta must be positive.");
        }
        Function = function;
        HuberDelta = huberDelta;
    }

    /// <summary>Which loss this is.</summary>
    public RegressionLossFunction Function { get; }

    /// <summary>Where the Huber loss turns linear.</summary>
    public double HuberDelta { get; }

    /// <inheritdoc />
    public Tensor Compute(Tensor outputs, Tensor targets)
    {
        using var typed = targets.to_type(outputs.dtype);
        return Function == RegressionLossFunction.Huber
            ? nn.functional.huber_loss(outputs, typed, HuberDelta)
            : nn.functional.mse_loss(outputs, typed);
    }
}
