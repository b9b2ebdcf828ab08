using Microsoft.Extensions.Logging.Abstractions;
using MtlHost.Abstractions;
using MtlHost.Core.Encoders;
using MtlHost.Core.Sampling;
using MtlHost.Core.Sharing;
using MtlHost.Core.Tokenization;
using MtlHost.Core.Training;
using MtlHost.Tests.Infrastructure;
using Shouldly;
using Xunit;
using static TorchSharp.torch;

namespace MtlHost.Tests.Strategies;

/// <summary>
/// A task's encoder branch (its adapters or copied top layers) is host state, not plugin state: it
/// survives the task leaving the run, comes back with it, and trains with it.
/// </summary>
public sealed class BranchLifetimeTests : IDisposable
{
    private readonly TemporaryDirectory _plugin = new();

    public void Dispose() => _plugin.Dispose();

    [Fact]
    public void A_removed_task_finds_its_trained_adapters_again_when_it_comes_back()
    {
        var options = new TrainingOptions { Steps = 6, BatchSize = 4, LogEvery = 0, Seed = 5 };
        var tokenizer = TinyRuntimes.Tokenizer;
        var factory = TinyRuntimes.Factory(options);
        using var first = factory.Create(new Animals("first"), Source());
        using var second = factory.Create(new Animals("second"), Source());
        using var encoder = EncoderCatalog.Create(EncoderCatalog.Tiny, options.Seed);
        using var trainer = new JointTrainer(encoder, [first, second], new AllTasksSampler(), options, 5e-4, CPU, tokenizer.PadId,
            NullLogger.Instance, sharing: new AdapterSharing(4));

        var branch = trainer.BranchOf("second");
        var before = Snapshot(branch);
        trainer.RunStep();
        var trained = Snapshot(branch);
        trained.ShouldNotBe(before);

        var detached = trainer.Roster.Detach("second");
        trainer.RunStep();
        Snapshot(branch).ShouldBe(trained);
        trainer.Branches.Select(b => b.BranchName).ShouldBe(["first", "second"]);

        trainer.Roster.Attach(detached);
        trainer.BranchOf("second").ShouldBeSameAs(branch);
        trainer.RunStep();
        Snapshot(branch).ShouldNotBe(trained);
    }

    private static float[] Snapshot(EncoderBranch branch) =>
        branch.parameters().SelectMany(p => p.detach().cpu().data<float>().ToArray()).ToArray();

    private TaskSource Source()
    {
        Directory.CreateDirectory(_plugin.Combine("data", "animals"));
        string[] lines = ["""{"text": "the cat sleeps", "label": "cat"}""", """{"text": "a dog barks", "label": "dog"}""",
                          """{"text": "my cat purrs", "label": "cat"}""", """{"text": "the dog runs", "label": "dog"}"""];
        File.WriteAllLines(_plugin.Combine("data", "animals", "train.jsonl"), lines);
        File.WriteAllLines(_plugin.Combine("data", "animals", "validation.jsonl"), lines);
        return new TaskSource("Animals", _plugin.Path, "Animals.dll", new string('0', 64));
    }

    private sealed class Animals(string id) : SequenceClassificationTask
    {
        public override string Id => id;
        public override IReadOnlyList<string> Labels => ["cat", "dog"];
        protected override string DataDirectory => Path.Combine("data", "animals");
    }
}
