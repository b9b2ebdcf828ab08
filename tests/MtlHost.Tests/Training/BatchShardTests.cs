using MtlHost.Abstractions;
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
    public void Two_shards_of_batch_2_are_the_batch_of_4_and_an_epoch_tail_leaves_no_shard_empty()
    {
        var options = new TrainingOptions { BatchSize = 2, Seed = 11 };
        var factory = TinyRuntimes.Factory(options);
        using var whole = factory.Create(new Animals(), Source());
        using var first = factory.Create(new Animals(), Source());
        using var second = factory.Create(new Animals(), Source());
        var pad = TinyRuntimes.Tokenizer.PadId;

        // 5 examples: batches of 4, then the epoch's last example, then 4 again.
        for (var step = 0; step < 3; step++)
        {
            var all = Rows(whole.NextTrainBatch(4, pad, CPU));
            var a = Rows(first.NextTrainBatch(2, pad, CPU, 0, 2));
            var b = Rows(second.NextTrainBatch(2, pad, CPU, 1, 2));

            a.ShouldNotBeEmpty();
            b.ShouldNotBeEmpty();
            if (all.Count == 4)
            {
                a.Concat(b).ShouldBe(all, $"step {step}");
            }
            else
            {
                // One example left for two processes: the one whose slice is empty trains the same example.
                a.ShouldBe(all);
                b.ShouldBe(all);
            }
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

    private TaskSource Source()
    {
        Directory.CreateDirectory(_plugin.Combine("data", "animals"));
        string[] lines = ["""{"text": "the cat sleeps", "label": "cat"}""", """{"text": "a dog barks", "label": "dog"}""",
                          """{"text": "my cat purrs", "label": "cat"}""", """{"text": "the dog runs", "label": "dog"}""",
                          """{"text": "an old cat", "label": "cat"}"""];
        File.WriteAllLines(_plugin.Combine("data", "animals", "train.jsonl"), lines);
        File.WriteAllLines(_plugin.Combine("data", "animals", "validation.jsonl"), lines);
        return new TaskSource("Animals", _plugin.Path, "Animals.dll", new string('0', 64));
    }

    private sealed class Animals : SequenceClassificationTask
    {
        public override string Id => "animals";
        public override IReadOnlyList<string> Labels => ["cat", "dog"];
        protected override string DataDirectory => Path.Combine("data", "animals");
    }
}
