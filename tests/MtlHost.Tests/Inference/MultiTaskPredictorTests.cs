using System.Security.Cryptography;
using MtlHost.Abstractions;
using MtlHost.Core.Checkpoints;
using MtlHost.Core.Encoders;
using MtlHost.Core.Inference;
using MtlHost.Core.Kinds;
using MtlHost.Inference;
using MtlHost.Tests.Infrastructure;
using Shouldly;
using Xunit;
using static TorchSharp.torch;

namespace MtlHost.Tests.Inference;

/// <summary>The predictor on a real tiny checkpoint: what each kind predicts, batching, task selection, and every load error.</summary>
[Collection(InferenceCollection.Name)]
public sealed class MultiTaskPredictorTests(InferenceCheckpoint checkpoint)
{
    private static readonly PredictionInput[] Inputs =
    [
        new("Win a FREE prize now, click here"),
        new("the quick brown fox jumps over the lazy dog", "a dog sleeps"),
        new("running"),
    ];

    [Fact]
    public void Every_training_task_predicts_each_input_in_the_shape_of_its_kind()
    {
        using var predictor = MultiTaskPredictor.Load(checkpoint.Checkpoint, checkpoint.Plugins);

        predictor.Step.ShouldBe(4);
        predictor.Tasks.Select(t => t.Id).ShouldBe(InferenceCheckpoint.TaskIds);
        var responses = predictor.Predict(Inputs);

        responses.Count.ShouldBe(3);
        responses.ShouldAllBe(r => r.Step == 4);
        // The first and third inputs have no second text: the pair task is skipped for them, with a note.
        responses[0].Tasks.Select(t => t.TaskId).ShouldBe(InferenceCheckpoint.TaskIds.Where(t => t != "pairs"));
        responses[0].Notes.ShouldHaveSingleItem().ShouldContain("'pairs' skipped");
        responses[1].Tasks.Select(t => t.TaskId).ShouldBe(InferenceCheckpoint.TaskIds);
        responses[1].Notes.ShouldBeEmpty();

        var byTask = responses[1].Tasks.ToDictionary(t => t.TaskId);
        var spam = byTask["spam"];
        spam.Kind.ShouldBe(nameof(TaskKind.SequenceClassification));
        spam.Label.ShouldBeOneOf("ham", "spam");
        spam.Scores.Keys.ShouldBe(["ham", "spam"], ignoreOrder: true);
        spam.Scores.Values.Sum().ShouldBe(1.0, 1e-5);
        spam.Scores[spam.Label!].ShouldBe(spam.Scores.Values.Max());

        var supersense = byTask["supersense"];
        supersense.Scores.Count.ShouldBe(PredictionDecoder.TopScores);
        supersense.Scores.Values.ShouldBeInOrder(SortDirection.Descending);
        supersense.Scores.First().Key.ShouldBe(supersense.Label);

        var domains = byTask["sensedomains"];
        domains.Labels.ShouldNotBeNull();
        domains.Labels.ShouldAllBe(l => domains.Scores[l] >= 0.5);
        domains.Scores.Where(s => !domains.Labels.Contains(s.Key)).ShouldAllBe(s => s.Value < 0.5);

        var tagging = byTask["pos-tagging"];
        tagging.Words!.Select(w => w.Word).ShouldBe(["the", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog"]);
        tagging.Words!.ShouldAllBe(w => w.Label != null && w.Score > 0 && w.Score <= 1);

        double.IsFinite(byTask["syllables"].Value!.Value).ShouldBeTrue();
        byTask["pairs"].Label.ShouldBeOneOf("different", "same");
    }

    [Fact]
    public void Predictions_equal_the_checkpoints_encoder_and_head_run_by_hand_and_do_not_depend_on_the_batch()
    {
        using var predictor = MultiTaskPredictor.Load(checkpoint.Checkpoint, checkpoint.Plugins);
        var batched = predictor.Predict(Inputs);
        var alone = Inputs.Select(i => predictor.Predict([i])[0]).ToList();

        // The spam head is the SDK's classification head: [CLS] state → linear; its weights come from the checkpoint.
        using var encoder = new BertEncoder(EncoderCatalog.ConfigOf(EncoderCatalog.Tiny));
        encoder.load(Path.Combine(checkpoint.Checkpoint, "encoder.bin"));
        encoder.eval();
        using var head = new ClassificationHead(encoder.HiddenSize, 2, 0.1);
        head.load(Path.Combine(checkpoint.Checkpoint, "heads", "spam.bin"));
        head.eval();
        for (var i = 0; i < Inputs.Length; i++)
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var encoded = TinyRuntimes.Tokenizer.Encode(Inputs[i].Text, 64);
            var ids = tensor(encoded.InputIds.Select(x => (long)x).ToArray(), [1, encoded.InputIds.Length]);
            var probabilities = head.forward(encoder.forward(ids, zeros_like(ids), ones_like(ids)), ones_like(ids)).softmax(-1).data<float>().ToArray();

            var expected = new Dictionary<string, double> { ["ham"] = probabilities[0], ["spam"] = probabilities[1] };
            foreach (var response in new[] { batched[i], alone[i] })
            {
                var spam = response.Tasks.Single(t => t.TaskId == "spam");
                spam.Scores["ham"].ShouldBe(expected["ham"], 1e-5);
                spam.Scores["spam"].ShouldBe(expected["spam"], 1e-5);
            }
            foreach (var (b, a) in batched[i].Tasks.Zip(alone[i].Tasks))
            {
                b.Label.ShouldBe(a.Label);
                (b.Value ?? 0).ShouldBe(a.Value ?? 0, 1e-4);
                b.Scores.Keys.ShouldBe(a.Scores.Keys);
            }
        }
    }

    [Fact]
    public void A_named_task_is_predicted_alone_and_an_unknown_one_is_refused_listing_the_tasks()
    {
        using var predictor = MultiTaskPredictor.Load(checkpoint.Checkpoint, checkpoint.Plugins);

        predictor.Predict([new PredictionInput("a dog")], "wordclass").ShouldHaveSingleItem().Tasks.ShouldHaveSingleItem().TaskId.ShouldBe("wordclass");
        var unknown = Should.Throw<ArgumentException>(() => predictor.Predict([new PredictionInput("a dog")], "sentiment"));
        unknown.Message.ShouldContain("'sentiment'");
        unknown.Message.ShouldContain(string.Join(", ", InferenceCheckpoint.TaskIds));
        Should.Throw<ArgumentException>(() => predictor.Predict([new PredictionInput("a dog")], "pairs")).Message.ShouldContain("second text");
        Should.Throw<ArgumentException>(() => predictor.Predict([new PredictionInput("  ")])).Message.ShouldContain("empty");
    }

    [Fact]
    public void Quarantined_tasks_are_predicted_only_when_named()
    {
        var copy = checkpoint.CopyCheckpoint(m => Replace(m, "spam", "\"state\": \"Training\"", "\"state\": \"Quarantined\""));
        using var predictor = MultiTaskPredictor.Load(copy, checkpoint.Plugins);

        predictor.Tasks.Single(t => t.Id == "spam").State.ShouldBe("Quarantined");
        predictor.Predict([new PredictionInput("free money")])[0].Tasks.Select(t => t.TaskId).ShouldNotContain("spam");
        predictor.Predict([new PredictionInput("free money")], "spam")[0].Tasks.ShouldHaveSingleItem().Label.ShouldNotBeNull();
    }

    [Fact]
    public void A_missing_plugin_DLL_names_the_task_the_file_its_hash_and_the_fix()
    {
        var plugins = checkpoint.CopyPlugins(without: "Spam");

        var error = Should.Throw<CheckpointException>(() => MultiTaskPredictor.Load(checkpoint.Checkpoint, plugins));

        error.Message.ShouldContain("Task 'spam'");
        error.Message.ShouldContain("Spam.dll");
        error.Message.ShouldContain(Sha256Of(Path.Combine(checkpoint.Plugins, "Spam", "Spam.dll")));
        error.Message.ShouldContain("--plugins");
    }

    [Fact]
    public void A_changed_plugin_DLL_names_both_hashes_and_the_fix()
    {
        var plugins = checkpoint.CopyPlugins();
        var dll = Path.Combine(plugins, "Spam", "Spam.dll");
        var trained = Sha256Of(dll);
        var bytes = File.ReadAllBytes(dll);
        bytes[^1] ^= 0x5a;
        File.WriteAllBytes(dll, bytes);

        var error = Should.Throw<CheckpointException>(() => MultiTaskPredictor.Load(checkpoint.Checkpoint, plugins));

        error.Message.ShouldContain("Task 'spam'");
        error.Message.ShouldContain(dll);
        error.Message.ShouldContain(trained);
        error.Message.ShouldContain(Sha256Of(dll));
        error.Message.ShouldContain("same commit");
    }

    [Fact]
    public void Another_plugins_DLL_under_the_expected_name_is_refused_as_changed()
    {
        var plugins = checkpoint.CopyPlugins();
        File.Copy(Path.Combine(plugins, "WordClass", "WordClass.dll"), Path.Combine(plugins, "Spam", "Spam.dll"), overwrite: true);

        Should.Throw<CheckpointException>(() => MultiTaskPredictor.Load(checkpoint.Checkpoint, plugins)).Message.ShouldContain("has SHA-256");
    }

    [Fact]
    public void A_removed_task_whose_plugin_is_gone_is_left_out_and_explains_itself_when_named()
    {
        var copy = checkpoint.CopyCheckpoint(m => Replace(m, "spam", "\"state\": \"Training\"", "\"state\": \"Removed\""));
        var plugins = checkpoint.CopyPlugins(without: "Spam");
        using var predictor = MultiTaskPredictor.Load(copy, plugins);

        predictor.Tasks.Select(t => t.Id).ShouldNotContain("spam");
        predictor.Unavailable.Keys.ShouldBe(["spam"]);
        Should.Throw<ArgumentException>(() => predictor.Predict([new PredictionInput("free money")], "spam")).Message.ShouldContain("Spam.dll");
    }

    [Fact]
    public void A_missing_checkpoint_or_a_folder_without_manifest_is_a_clear_error()
    {
        var missing = Path.Combine(checkpoint.NewFolder(), "nothing");
        Should.Throw<CheckpointException>(() => MultiTaskPredictor.Load(missing, checkpoint.Plugins)).Message.ShouldContain("does not exist");
        Should.Throw<CheckpointException>(() => MultiTaskPredictor.Load(checkpoint.NewFolder(), checkpoint.Plugins)).Message.ShouldContain("manifest.json");
    }

    private static string Sha256Of(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    // Replaces text within one task's entry of the manifest.
    private static string Replace(string manifest, string taskId, string from, string to)
    {
        var start = manifest.IndexOf($"\"id\": \"{taskId}\"", StringComparison.Ordinal);
        var end = manifest.IndexOf(from, start, StringComparison.Ordinal);
        end.ShouldBeGreaterThan(start);
        return manifest[..end] + to + manifest[(end + from.Length)..];
    }
}
