using MtlHost.Core.Weighting;
using Shouldly;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace MtlHost.Tests.Weighting;

/// <summary>Every strategy on a tiny real model: a shared layer, three heads, a few optimizer steps.</summary>
public sealed class WeightingTrainingTests
{
    public static TheoryData<string, bool> Strategies()
    {
        var data = new TheoryData<string, bool>();
        foreach (var name in WeightingCatalog.Names)
        {
            data.Add(name, false);
        }
        data.Add("mgda", true);
        return data;
    }

    [Theory]
    [MemberData(nameof(Strategies))]
    public void Each_strategy_trains_a_tiny_model_for_a_few_steps_without_NaN(string name, bool upperBound)
    {
        manual_seed(3);
        using var shared = nn.Sequential(nn.Linear(4, 8), nn.Tanh());
        var heads = Enumerable.Range(0, 3).Select(_ => nn.Linear(8, 1)).ToArray();
        string[] ids = ["a", "b", "c"];
        var inputs = Enumerable.Range(0, 3).Select(_ => randn(5, 6, 4)).ToArray();
        var targets = Enumerable.Range(0, 3).Select(i => randn(5, 6, 1) * (i + 1)).ToArray();
        var sharedParameters = shared.parameters().ToArray();
        var all = sharedParameters.Concat(heads.SelectMany(h => h.parameters())).ToArray();
        using var optimizer = optim.SGD(all, 0.05);
        var weighting = WeightingCatalog.Create(name, new WeightingOptions { MgdaUpperBound = upperBound, DwaWindow = 2 });
        var firstLoss = 0.0;
        var lastLoss = 0.0;
        var liveAfterFirstStep = 0L;

        for (var step = 0; step < 8; step++)
        {
            if (step == 1)
            {
                liveAfterFirstStep = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            }
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var representations = inputs.Select(x => shared.forward(x)).ToArray();
            var losses = representations.Select((z, i) => nn.functional.mse_loss(heads[i].forward(z), targets[i])).ToArray();
            var weights = weighting.Backward(new WeightingStep(ids, losses, sharedParameters, representations, step, new Random(step)));
            optimizer.step();

            weights.ShouldAllBe(w => double.IsFinite(w));
            all.Count(p => p.grad is null).ShouldBe(0);
            var total = losses.Sum(l => l.item<float>());
            float.IsFinite(total).ShouldBeTrue();
            if (step == 0)
            {
                firstLoss = total;
            }
            lastLoss = total;
        }

        // Native memory stays flat: no tensor outlives its step.
        DisposeScopeManager.Statistics.ThreadTotalLiveCount.ShouldBe(liveAfterFirstStep);
        all.ShouldAllBe(p => !p.isnan().any().item<bool>());
        lastLoss.ShouldBeLessThan(firstLoss);
        foreach (var tensor in inputs.Concat(targets))
        {
            tensor.Dispose();
        }
        foreach (var head in heads)
        {
            head.Dispose();
        }
    }
}
