using Microsoft.Extensions.Logging.Abstractions;
using MtlHost.Abstractions;
using MtlHost.Core.Encoders;
using MtlHost.Core.Sampling;
using MtlHost.Core.Training;
using MtlHost.Tests.Infrastructure;
using Shouldly;
using Xunit;
using static TorchSharp.torch;

namespace MtlHost.Tests.Training;

/// <summary>
/// Which parameters a step moves: only those a trained task's loss reached, as PyTorch's AdamW skips a parameter whose
/// grad is None; and a task's counters go on across a hot replace.
/// </summary>
public sealed class OptimizerStepTests : IDisposable
{
    private readonly TemporaryDirectory _plugin = new();

    public void Dispose() => _plugin.Dispose();

    [Fact]
    public void A_head_whose_task_was_not_sampled_does_not_move_while_the_sampled_one_does()
    {
        // One task per step: before the fix every head with a (zeroed) grad stepped, drifting with momentum and weight decay.
        var options = new TrainingOptions { Steps = 40, BatchSize = 2, LogEvery = 0, Seed = 3 };
        var factory = TinyRuntimes.Factory(options);
        using var first = factory.Create(new Animals("first"), Source());
        using var second = factory.Create(new Animals("second"), Source());
        using var encoder = EncoderCatalog.Create(EncoderCatalog.Tiny, options.Seed);
        using var trainer = new JointTrainer(encoder, [first, second], new UniformTaskSampler(), options, 5e-4, CPU,
            TinyRuntimes.Tokenizer.PadId, NullLogger.Instance);

        var idleSteps = 0;
        for (var i = 0; i < 30; i++)
        {
            var heads = new[] { Snapshot(first.Head), Snapshot(second.Head) };
            var trainedBefore = new[] { first.StepsTrained, second.StepsTrained };
            trainer.RunStep();
            var runtimes = new[] { first, second };
            for (var t = 0; t < 2; t++)
            {
                var sampled = runtimes[t].StepsTrained > trainedBefore[t];
                if (sampled)
                {
                    Snapshot(runtimes[t].Head).ShouldNotBe(heads[t], $"step {i}: the head of the sampled task must train");
                }
                else
                {
                    // Only counts once the head has had a gradient, which is when AdamW used to step it regardless.
                    if (trainedBefore[t] > 0)
                    {
                        idleSteps++;
                    }
                    Snapshot(runtimes[t].Head).ShouldBe(heads[t], $"step {i}: task {runtimes[t].Id} was not sampled");
                }
            }
        }
        idleSteps.ShouldBeGreaterThan(5);
    }

    [Fact]
    public void A_replaced_task_keeps_its_step_count_and_its_new_version_counts_its_own_steps()
    {
        var options = new TrainingOptions { Steps = 20, BatchSize = 2, LogEvery = 0, Seed = 4 };
        var factory = TinyRuntimes.Factory(options);
        using var task = factory.Create(new Animals("animals"), Source());
        using var encoder = EncoderCatalog.Create(EncoderCatalog.Tiny, options.Seed);
        using var trainer = new JointTrainer(encoder, [task], new UniformTaskSampler(), options, 5e-4, CPU,
            TinyRuntimes.Tokenizer.PadId, NullLogger.Instance);
        for (var i = 0; i < 5; i++)
        {
            trainer.RunStep();
        }
        var examples = task.ExamplesSeen;

        using var replacement = factory.Create(new Animals("animals"), Source());
        trainer.Roster.Replace(replacement, out var previous);
        using var _ = previous;
        replacement.StepsTrained.ShouldBe(5);
        replacement.ExamplesSeen.ShouldBe(examples);
        replacement.StepsTrainedThisVersion.ShouldBe(0);

        trainer.RunStep();
        replacement.StepsTrained.ShouldBe(6);
        replacement.StepsTrainedThisVersion.ShouldBe(1);
    }

    private static float[] Snapshot(TorchSharp.torch.nn.Module module) =>
        module.parameters().SelectMany(p => p.detach().cpu().data<float>().ToArray()).ToArray();

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
