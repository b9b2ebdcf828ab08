using System.Diagnostics.CodeAnalysis;
using MtlHost.Core.Weighting;
using Shouldly;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace MtlHost.Tests.Weighting;

/// <summary>
/// Across N processes every backward pass of a <see cref="WeightingStep"/> leaves this process's share of the gradient,
/// 1/N of it, so that the trainer's plain sum over the processes is the mean (no division pass after the all-reduce).
/// Checked with two processes that hold the same batch: each one's gradients must be exactly half of what one process
/// computes, for every weighting, with and without per-task clipping, and the weights the same.
/// </summary>
public sealed class GradientShareTests
{
    public static TheoryData<string, bool, bool> Cases()
    {
        var data = new TheoryData<string, bool, bool>();
        foreach (var name in WeightingCatalog.Names)
        {
            data.Add(name, false, false);
            data.Add(name, false, true);
        }
        data.Add("mgda", true, false);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void With_two_processes_each_keeps_half_of_the_gradient_one_process_computes(string name, bool upperBound, bool clipPerTask)
    {
        var (alone, aloneWeights) = Gradients(name, upperBound, clipPerTask, averaging: null);
        var twin = new TwinProcesses();
        var (share, shareWeights) = Gradients(name, upperBound, clipPerTask, twin);

        shareWeights.ShouldBe(aloneWeights, 1e-6);
        share.Length.ShouldBe(alone.Length);
        for (var i = 0; i < alone.Length; i++)
        {
            share[i].ShouldBe(alone[i] / 2, 1e-6 * Math.Max(1, Math.Abs(alone[i])), $"gradient element {i}");
        }
        alone.ShouldContain(g => Math.Abs(g) > 1e-3);
        if (name is "gradnorm" or "pcgrad" or "mgda" or "cagrad")
        {
            // The gradient-based ones computed their rows once and summed the shares over the processes.
            twin.Sums.ShouldBeGreaterThan(0);
        }
    }

    // One step of a tiny real model: shared Linear+Tanh, three Linear heads, MSE losses of different scales, so that the
    // per-task clip (norm 0.5) does clip.
    private static (double[] Gradients, IReadOnlyList<double> Weights) Gradients(string name, bool upperBound, bool clipPerTask, ITaskGradientAveraging? averaging)
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        var shared = nn.Sequential(nn.Linear(4, 8), nn.Tanh());
        var heads = Enumerable.Range(0, 3).Select(_ => nn.Linear(8, 1)).ToArray();
        var inputs = Enumerable.Range(0, 3).Select(_ => randn(5, 6, 4)).ToArray();
        var targets = Enumerable.Range(0, 3).Select(i => randn(5, 6, 1) * (3 * i + 1)).ToArray();
        var sharedParameters = shared.parameters().ToArray();
        var all = sharedParameters.Concat(heads.SelectMany(h => h.parameters())).ToArray();
        var weighting = WeightingCatalog.Create(name, new WeightingOptions { MgdaUpperBound = upperBound, DwaWindow = 2 });
        var representations = inputs.Select(x => shared.forward(x)).ToArray();
        var losses = representations.Select((z, i) => nn.functional.mse_loss(heads[i].forward(z), targets[i])).ToArray();
        var clip = clipPerTask ? new PerTaskGradientClip(all, 0.5) : null;

        var weights = weighting.Backward(new WeightingStep(["a", "b", "c"], losses, sharedParameters, representations, step: 0,
            new Random(7), perTaskClip: clip, averaging: averaging));

        var gradients = all.SelectMany(p => p.grad!.to_type(ScalarType.Float64).data<double>().ToArray()).ToArray();
        return (gradients, weights);
    }

    /// <summary>Two processes with the same batch: the other process's share equals this one's, so the sum doubles it.</summary>
    private sealed class TwinProcesses : ITaskGradientAveraging
    {
        public int Sums { get; private set; }

        public int ProcessCount => 2;

        public void Sum(Tensor rows)
        {
            Sums++;
            using (no_grad())
            {
                rows.mul_(2);
            }
        }

        [DoesNotReturn]
        public void Fail(Exception failure) => throw failure;
    }
}
