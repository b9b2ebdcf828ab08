using MtlHost.Abstractions;
using MtlHost.Core.Checkpoints;
using MtlHost.Core.Encoders;
using MtlHost.Core.Inference;
using MtlHost.Core.Sharing;
using MtlHost.Inference;
using MtlHost.Tests.Infrastructure;
using Shouldly;
using Xunit;
using static TorchSharp.torch;

namespace MtlHost.Tests.Inference;

/// <summary>Checkpoints of --sharing top-layers and adapters: each task reads its own encoder branch.</summary>
[Collection(InferenceCollection.Name)]
public sealed class BranchPredictionTests(InferenceCheckpoint checkpoint)
{
    [Fact]
    public void A_top_layers_checkpoint_predicts_each_task_through_its_own_branch()
    {
        var run = Train("--sharing", "top-layers");
        using var predictor = MultiTaskPredictor.Load(Path.Combine(run, "checkpoint"), checkpoint.Plugins);
        var texts = new[] { "free money, click now", "running" };
        var responses = predictor.Predict(texts.Select(t => new PredictionInput(t)).ToList());

        // By hand: the shared encoder's layer 0, then spam's copy of layer 1 (k = 1 of 2 layers), then the head.
        using var encoder = new BertEncoder(EncoderCatalog.ConfigOf(EncoderCatalog.Tiny));
        encoder.load(Path.Combine(run, "checkpoint", "encoder.bin"));
        encoder.eval();
        using var branch = new TopLayerBranch("spam", encoder, sharedLayers: 1);
        branch.load(Path.Combine(run, "checkpoint", "branches", "spam.bin"));
        branch.eval();
        using var head = new ClassificationHead(encoder.HiddenSize, 2, 0.1);
        head.load(Path.Combine(run, "checkpoint", "heads", "spam.bin"));
        head.eval();
        for (var i = 0; i < texts.Length; i++)
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var encoded = TinyRuntimes.Tokenizer.Encode(texts[i], 64);
            var ids = tensor(encoded.InputIds.Select(x => (long)x).ToArray(), [1, encoded.InputIds.Length]);
            var hidden = branch.Encode(encoder, ids, zeros_like(ids), ones_like(ids)).Hidden;
            var spam = head.forward(hidden, ones_like(ids)).softmax(-1).data<float>().ToArray()[1];

            responses[i].Tasks.Select(t => t.TaskId).ShouldBe(["spam", "wordclass"]);
            responses[i].Tasks[0].Scores["spam"].ShouldBe(spam, 1e-5);
        }

        // Export carries the branches too, under the branch module's own names.
        var export = Path.Combine(checkpoint.NewFolder(), "export");
        HostRun.Of("export", "--checkpoint", Path.Combine(run, "checkpoint"), "--out", export).ExitCode.ShouldBe(0);
        using var description = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(export, "mtlhost-export.json")));
        var branches = description.RootElement.GetProperty("branches").EnumerateArray().ToList();
        branches.Select(b => b.GetProperty("name").GetString()).ShouldBe(["spam", "wordclass"]);
        branches[0].GetProperty("tensors").EnumerateObject().Select(t => t.Name).ShouldContain("layer.1.attention.self.query.weight");
        File.Exists(Path.Combine(export, "branches", "spam.safetensors")).ShouldBeTrue();
    }

    [Fact]
    public void An_adapters_checkpoint_with_an_unnamed_task_group_shares_the_groups_branch()
    {
        var run = Train("--sharing", "adapters", "--adapter-size", "8", "--task-groups", "spam, wordclass");
        using var predictor = MultiTaskPredictor.Load(Path.Combine(run, "checkpoint"), checkpoint.Plugins);

        var response = predictor.Predict([new PredictionInput("quickly")]).ShouldHaveSingleItem();

        response.Tasks.Select(t => t.TaskId).ShouldBe(["spam", "wordclass"]);
        response.Tasks[1].Label.ShouldBeOneOf("noun", "verb", "adjective", "adverb");
    }

    [Fact]
    public void A_named_task_group_cannot_be_matched_and_says_so()
    {
        var run = Train("--sharing", "adapters", "--adapter-size", "8", "--task-groups", "both: spam, wordclass");

        var error = Should.Throw<CheckpointException>(() => MultiTaskPredictor.Load(Path.Combine(run, "checkpoint"), checkpoint.Plugins));

        error.Message.ShouldContain("Task 'spam'");
        error.Message.ShouldContain("both");
        error.Message.ShouldContain("unnamed groups");
    }

    private string Train(params string[] sharing)
    {
        var plugins = checkpoint.CopyPlugins(without: ["Pairs", "SenseDomains", "Supersense", "PosTagging", "Syllables"]);
        var run = Path.Combine(checkpoint.NewFolder(), "run");
        var train = HostRun.Of(["train", "--encoder", "tiny", "--steps", "3", "--batch-size", "8", "--max-length", "64", "--plugins", plugins, "--out", run, .. sharing]);
        train.ExitCode.ShouldBe(0, train.Error);
        return run;
    }
}
