using MtlHost.Core.Weighting;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MtlHost.Tests.Weighting;

/// <summary>
/// Hand-computable tasks on real tensors: a shared 2-D parameter p, an identity "encoder" z_i = p·1,
/// and L_i = a_i·z_i + offset_i + (i + 1)·h_i with a scalar head h_i. So ∂L_i/∂p = a_i,
/// ∂L_i/∂h_i = i + 1, and with p = 0, h = 0 the loss values are the offsets.
/// </summary>
internal sealed class LinearTasks : IDisposable
{
    private readonly List<Tensor> _owned = [];

    public LinearTasks(int tasks = 4)
    {
        Shared = new Parameter(zeros(2, ScalarType.Float64), requires_grad: true);
        Heads = Enumerable.Range(0, tasks).Select(_ => new Parameter(zeros(1, ScalarType.Float64), requires_grad: true)).ToArray();
    }

    public Parameter Shared { get; }

    public Parameter[] Heads { get; }

    /// <summary>A step over tasks with gradients <paramref name="a"/> and loss values <paramref name="losses"/>; gradients cleared first.</summary>
    public WeightingStep Step(double[][] a, double[] losses, string[]? ids = null, int step = 0, Random? random = null,
        PerTaskGradientClip? perTaskClip = null)
    {
        Shared.grad?.zero_();
        foreach (var head in Heads)
        {
            head.grad?.zero_();
        }
        var representations = new List<Tensor>();
        var lossTensors = new List<Tensor>();
        for (var i = 0; i < a.Length; i++)
        {
            var z = Shared * 1.0;
            var loss = (z * tensor(a[i])).sum() + losses[i] + Heads[i].sum() * (i + 1);
            representations.Add(z);
            lossTensors.Add(loss);
            _owned.Add(z);
            _owned.Add(loss);
        }
        ids ??= Enumerable.Range(0, a.Length).Select(i => $"task{i}").ToArray();
        return new WeightingStep(ids, lossTensors, [Shared], representations, step, random ?? new Random(1), perTaskClip: perTaskClip);
    }

    public double[] SharedGradient() => Shared.grad!.data<double>().ToArray();

    public double HeadGradient(int i) => Heads[i].grad is { } g ? g.item<double>() : 0.0;

    public void Dispose()
    {
        foreach (var tensor in _owned)
        {
            tensor.Dispose();
        }
        Shared.Dispose();
        foreach (var head in Heads)
        {
            head.Dispose();
        }
    }
}
