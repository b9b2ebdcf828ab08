using MtlHost.Core.Sampling;
using Shouldly;
using Xunit;

namespace MtlHost.Tests.Sampling;

public sealed class TaskSamplerTests
{
    private static readonly int[] Sizes = [100, 400, 1600];

    [Fact]
    public void Uniform_gives_every_task_the_same_probability()
    {
        new UniformTaskSampler().Probabilities(Sizes, 0, 10).ShouldBe([1 / 3.0, 1 / 3.0, 1 / 3.0], 1e-12);
    }

    [Fact]
    public void Proportional_follows_the_training_set_sizes()
    {
        new ProportionalTaskSampler().Probabilities(Sizes, 0, 10).ShouldBe([100 / 2100.0, 400 / 2100.0, 1600 / 2100.0], 1e-12);
    }

    [Fact]
    public void Temperature_takes_the_T_th_root_of_the_sizes_and_caps_them()
    {
        // T = 2: weights 10, 20, 40.
        new TemperatureTaskSampler(2).Probabilities(Sizes, 0, 10).ShouldBe([10 / 70.0, 20 / 70.0, 40 / 70.0], 1e-12);
        // Cap 400: sizes 100, 400, 400 → weights 10, 20, 20.
        new TemperatureTaskSampler(2, cap: 400).Probabilities(Sizes, 0, 10).ShouldBe([0.2, 0.4, 0.4], 1e-12);
        new TemperatureTaskSampler(1).Probabilities(Sizes, 0, 10).ShouldBe(new ProportionalTaskSampler().Probabilities(Sizes, 0, 10), 1e-12);
        Should.Throw<ArgumentOutOfRangeException>(() => new TemperatureTaskSampler(0));
    }

    [Fact]
    public void Annealed_goes_from_proportional_at_the_first_step_to_the_final_exponent_at_the_last()
    {
        var sampler = new AnnealedTaskSampler(finalAlpha: 0.5);
        sampler.Probabilities(Sizes, 0, 11).ShouldBe(new ProportionalTaskSampler().Probabilities(Sizes, 0, 11), 1e-12);
        sampler.Alpha(5, 11).ShouldBe(0.75, 1e-12);
        // α = 0.5 at the last step: weights 10, 20, 40.
        sampler.Probabilities(Sizes, 10, 11).ShouldBe([10 / 70.0, 20 / 70.0, 40 / 70.0], 1e-12);
    }

    [Fact]
    public void All_tasks_takes_every_live_task_every_step()
    {
        new AllTasksSampler().Next(Sizes, 7, 10, new Random(1)).ShouldBe([0, 1, 2]);
    }

    [Fact]
    public void Draws_follow_the_probabilities_and_the_seed()
    {
        var sampler = new TemperatureTaskSampler(2);
        var counts = new int[3];
        var random = new Random(5);
        for (var i = 0; i < 70_000; i++)
        {
            counts[sampler.Next(Sizes, i, 70_000, random).ShouldHaveSingleItem()]++;
        }
        counts[0].ShouldBeInRange(9_500, 10_500);
        counts[1].ShouldBeInRange(19_300, 20_700);
        counts[2].ShouldBeInRange(39_000, 41_000);

        var first = Enumerable.Range(0, 50).Select(i => sampler.Next(Sizes, i, 50, new Random(i))[0]).ToList();
        var second = Enumerable.Range(0, 50).Select(i => sampler.Next(Sizes, i, 50, new Random(i))[0]).ToList();
        second.ShouldBe(first);
    }

    [Fact]
    public void The_catalog_knows_every_sampler_by_name_in_any_case_and_lists_them_for_an_unknown_one()
    {
        foreach (var name in SamplerCatalog.Names)
        {
            SamplerCatalog.Create(name.ToUpperInvariant(), new SamplerOptions()).Name.ShouldBe(name);
        }
        var error = Should.Throw<ArgumentException>(() => SamplerCatalog.Create("round-robin", new SamplerOptions()));
        error.Message.ShouldContain("round-robin");
        error.Message.ShouldContain("uniform, proportional, temperature, annealed, all-tasks");
    }
}
