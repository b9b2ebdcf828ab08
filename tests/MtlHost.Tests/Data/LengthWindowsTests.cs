using MtlHost.Core.Data;
using Shouldly;
using Xunit;

namespace MtlHost.Tests.Data;

/// <summary>Length-aware batch order: deterministic, every example once per epoch, grouped by length, resumable.</summary>
public sealed class LengthWindowsTests
{
    // 103 examples of lengths 2..129 in an irregular pattern; batches of 4 in windows of 5 batches (20 examples),
    // so an epoch has 5 whole windows and a last window of 3 examples (a short batch).
    private const int Count = 103;
    private const int BatchSize = 4;
    private static readonly int[] Lengths = Enumerable.Range(0, Count).Select(i => 2 + i * 37 % 128).ToArray();

    private static EpochSampler Grouped(int seed = 5) => new(Count, seed, new LengthWindows(Lengths, BatchSize, WindowBatches: 5));

    private static List<int[]> Epoch(EpochSampler sampler)
    {
        var batches = new List<int[]>();
        for (var taken = 0; taken < Count; taken += batches[^1].Length)
        {
            batches.Add(sampler.Next(BatchSize).ToArray());
        }
        return batches;
    }

    [Fact]
    public void The_same_seed_gives_the_same_batches_and_another_seed_or_epoch_other_ones()
    {
        var a = Grouped();
        var b = Grouped();
        var epochsA = Enumerable.Range(0, 3).Select(_ => Epoch(a)).ToList();
        var epochsB = Enumerable.Range(0, 3).Select(_ => Epoch(b)).ToList();

        for (var epoch = 0; epoch < 3; epoch++)
        {
            epochsB[epoch].ShouldBe(epochsA[epoch], $"epoch {epoch}");
        }
        epochsA[1].ShouldNotBe(epochsA[0]);
        Epoch(Grouped(seed: 6)).ShouldNotBe(epochsA[0]);
    }

    [Fact]
    public void Every_epoch_trains_every_example_exactly_once()
    {
        var sampler = Grouped();
        for (var epoch = 0; epoch < 4; epoch++)
        {
            var batches = Epoch(sampler);
            batches.SelectMany(b => b).Order().ShouldBe(Enumerable.Range(0, Count), $"epoch {epoch}");
            sampler.Epoch.ShouldBe(epoch);
        }
    }

    [Fact]
    public void Batches_of_a_window_hold_neighbouring_lengths_and_the_one_short_batch_comes_last()
    {
        var batches = Epoch(Grouped());

        batches.Take(batches.Count - 1).ShouldAllBe(b => b.Length == BatchSize);
        batches[^1].Length.ShouldBe(Count % BatchSize);
        // Within a window (5 batches), batches are slices of the window sorted by length: their length ranges
        // do not overlap, whatever order the batches come in.
        foreach (var window in batches.Take(batches.Count - 1).Chunk(5))
        {
            var ranges = window.Select(b => (Min: b.Min(i => Lengths[i]), Max: b.Max(i => Lengths[i]))).OrderBy(r => r.Min).ToList();
            for (var i = 1; i < ranges.Count; i++)
            {
                ranges[i].Min.ShouldBeGreaterThanOrEqualTo(ranges[i - 1].Max);
            }
        }
    }

    [Fact]
    public void Grouping_only_reorders_within_a_window_of_the_plain_shuffle_and_pads_less()
    {
        var plain = Epoch(new EpochSampler(Count, 5));
        var grouped = Epoch(Grouped());

        // The same examples fall in each window as in the plain shuffle of the same seed.
        var plainWindows = plain.SelectMany(b => b).Chunk(20).Select(w => w.Order().ToArray()).ToList();
        var groupedWindows = grouped.SelectMany(b => b).Chunk(20).Select(w => w.Order().ToArray()).ToList();
        groupedWindows.ShouldBe(plainWindows);

        static long Padded(IEnumerable<int[]> batches) => batches.Sum(b => (long)b.Length * b.Max(i => Lengths[i]));
        Padded(grouped).ShouldBeLessThan(Padded(plain));
    }

    [Fact]
    public void Without_grouping_the_order_is_the_plain_seeded_shuffle_runs_had_before()
    {
        var expected = Enumerable.Range(0, Count).ToArray();
        new Random(5).Shuffle(expected);

        Epoch(new EpochSampler(Count, 5)).SelectMany(b => b).ShouldBe(expected);
        new EpochSampler(Count, 5).Description.ShouldBe(LengthWindows.ShuffledOrder);
        Grouped().Description.ShouldBe("length-window 5x4");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    [InlineData(26)]
    [InlineData(27)]
    [InlineData(60)]
    public void A_restored_sampler_hands_out_the_batches_an_uninterrupted_one_would(int batchesBefore)
    {
        // 26 batches an epoch, so these include both epoch boundaries and positions inside a window.
        var original = Grouped();
        for (var i = 0; i < batchesBefore; i++)
        {
            original.Next(BatchSize);
        }

        var restored = Grouped();
        restored.Restore(original.Epoch, original.Position);

        restored.Epoch.ShouldBe(original.Epoch);
        restored.Position.ShouldBe(original.Position);
        for (var i = 0; i < 40; i++)
        {
            restored.Next(BatchSize).ToArray().ShouldBe(original.Next(BatchSize).ToArray(), $"batch {batchesBefore + i}");
        }
    }

    [Fact]
    public void Lengths_that_do_not_match_the_data_are_refused()
    {
        Should.Throw<ArgumentException>(() => new EpochSampler(Count + 1, 5, new LengthWindows(Lengths, BatchSize, 5)));
    }
}
