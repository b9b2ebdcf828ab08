using MtlHost.Abstractions;
using MtlHost.Core.Training;
using MtlHost.Tests.Infrastructure;
using Shouldly;
using Xunit;

namespace MtlHost.Tests.Training;

/// <summary>The host hands a task's loss and head its training split's label counts before the first step.</summary>
public sealed class TrainingSplitPreparationTests : IDisposable
{
    private readonly TemporaryDirectory _plugin = new();

    public void Dispose() => _plugin.Dispose();

    [Fact]
    public void A_multi_label_tasks_loss_and_head_are_prepared_from_the_label_counts_of_its_training_split()
    {
        Directory.CreateDirectory(_plugin.Combine("data", "topics"));
        // "rare" on 1 of 4 examples, "common" on 3, "never" on none.
        string[] lines = ["""{"text": "a", "labels": ["rare", "common"]}""", """{"text": "b", "labels": ["common"]}""",
                          """{"text": "c", "labels": ["common"]}""", """{"text": "d", "labels": []}"""];
        File.WriteAllLines(_plugin.Combine("data", "topics", "train.jsonl"), lines);
        File.WriteAllLines(_plugin.Combine("data", "topics", "validation.jsonl"), lines);
        var options = new TrainingOptions { Steps = 1, BatchSize = 2, LogEvery = 0 };

        using var runtime = TinyRuntimes.Factory(options).Create(new Topics(), new TaskSource("Topics", _plugin.Path, "Topics.dll", new string('0', 64)));

        var loss = runtime.Loss.ShouldBeOfType<MultiLabelBinaryCrossEntropy>();
        loss.PositiveWeights!.ShouldBe([Math.Sqrt(3.0), 1.0, 1.0], 1e-9);
        var bias = runtime.Head.named_parameters().Single(p => p.name == "classifier.bias").parameter.detach().data<float>().ToArray();
        bias.Select(b => (double)b).ShouldBe([Math.Log(Math.Sqrt(3.0) * 1 / 3), Math.Log(3.0 / 1), Math.Log(0.5 / 3.5)], 1e-5);
    }

    private sealed class Topics : MultiLabelClassificationTask
    {
        public override string Id => "topics";
        public override IReadOnlyList<string> Labels => ["rare", "common", "never"];
    }
}
