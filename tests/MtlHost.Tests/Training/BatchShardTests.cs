using MtlHost.Core.Data;
using MtlHost.Core.Training;
using MtlHost.Tests.Infrastructure;
using Shouldly;
using Xunit;
using static TorchSharp.torch;

namespace MtlHost.Tests.Training;

/// <summary>Data-parallel batches: the processes' shards of a step are together the batch one process would train.</summary>
public sealed class BatchShardTests : IDisposable
{
    private readonly TemporaryDirectory _plugin = new();

    public void Dispose() => _plugin.Dispose();

    [Fact]
    public void Three_shards_of_batch_7_are_the_batch_of_21_and_an_epoch_tail_leaves_no_shard_empty()
    {
        var options = new TrainingOptions { BatchSize = 7, Seed = 11 };
        using var whole = MoodsTask.Prepare(_plugin, options);
        var shards = Enumerable.Range(0, 3).Select(_ => MoodsTask.Prepare(_plugin, options)).ToList();
        var pad = TinyRuntimes.Tokenizer.PadId;

        try
        {
            // 64 examples: three batches of 21, then the epoch's last example, then 21 again.
            for (var step = 0; step < 5; step++)
            {
                var all = Rows(whole.NextTrainBatch(21, pad, CPU));
                var parts = shards.Select((runtime, shard) => Rows(runtime.NextTrainBatch(7, pad, CPU, shard, 3))).ToList();

                parts.ShouldAllBe(part => part.Count > 0);
                if (all.Count == 21)
                {
                    parts.SelectMany(p => p).ShouldBe(all, $"step {step}");
                }
                else
                {
                    // One example left for three processes: the ones whose slice is empty train that same example.
                    parts.ShouldAllBe(part => part.SequenceEqual(all), $"step {step}");
                }
            }
        }
        finally
        {
            shards.ForEach(s => s.Dispose());
        }
    }

    // Each example's token ids without padding, so that shards padded to other lengths compare.
    private static List<string> Rows(TaskBatch batch)
    {
        using (batch)
        {
            var ids = batch.InputIds.data<long>().ToArray();
            var width = (int)batch.InputIds.shape[1];
            return Enumerable.Range(0, (int)batch.Size)
                .Select(r => string.Join(' ', ids.Skip(r * width).Take(width).Where(id => id != TinyRuntimes.Tokenizer.PadId)))
                .ToList();
        }
    }
}
