using MtlHost.Abstractions;
using MtlHost.Commands;
using MtlHost.Core.Checkpoints;
using MtlHost.Core.Encoders;
using MtlHost.Core.Export.Onnx;
using MtlHost.Core.Inference;
using MtlHost.Inference;
using MtlHost.Inference.Onnx;
using MtlHost.Predictions;
using MtlHost.Tests.Infrastructure;
using Shouldly;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace MtlHost.Tests.Inference;

/// <summary>
/// <c>export --format onnx</c> and the ONNX Runtime predictor: fp32 outputs equal the TorchSharp modules' (max |Δ| ≤ 1e-4)
/// and give the TorchSharp predictor's predictions; int8 agrees with fp32 on the validation texts.
/// </summary>
[Collection(InferenceCollection.Name)]
public sealed class OnnxExportTests(InferenceCheckpoint checkpoint, ITestOutputHelper log)
{
    private const float Tolerance = 1e-4f;

    // Punctuation, accents, numbers, unknown characters, a pair, and a text longer than the checkpoint's 64 tokens.
    private static readonly PredictionInput[] Samples =
    [
        new("Win a FREE prize now, click here"),
        new("the quick brown fox jumps over the lazy dog", "a dog sleeps"),
        new("running"),
        new("Café naïve résumé Zürich São Paulo Ångström façade"),
        new("In 2023, 42 people paid $3.50 each (total: 147.00) at 10:30 on 1/2/2024.", "東京 is in Japan 🙂"),
        new(string.Join(' ', Enumerable.Repeat("The quick brown fox, having jumped over 3 lazy dogs, wrote a résumé.", 8))),
    ];

    [Fact]
    public void Fp32_outputs_equal_the_TorchSharp_encoder_and_heads_on_the_sample_texts()
    {
        using var onnx = OnnxMultiTaskPredictor.Load(Export("none"));
        var manifest = CheckpointReader.ReadManifest(checkpoint.Checkpoint);
        using var encoder = new BertEncoder(EncoderCatalog.ConfigOf(EncoderCatalog.Tiny));
        encoder.load(Path.Combine(checkpoint.Checkpoint, manifest.Encoder.File));
        encoder.eval();

        onnx.Tasks.Select(t => t.Id).ShouldBe(InferenceCheckpoint.TaskIds);
        var rows = onnx.Encode(Samples, onnx.Tasks);
        var outputs = onnx.Run(rows, onnx.Tasks.Select(t => t.Output));
        var (ids, types, mask) = rows.Collate();
        long[] shape = [rows.Rows.Count, rows.Length];
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var maskTensor = tensor(mask, shape);
        var hidden = encoder.forward(tensor(ids, shape), tensor(types, shape), maskTensor);
        var worst = 0f;
        foreach (var task in onnx.Tasks)
        {
            using var head = HeadOf(manifest.Tasks.Single(t => t.Id == task.Id), encoder.HiddenSize);
            var expected = head.forward(hidden, maskTensor).contiguous().data<float>().ToArray();
            var actual = outputs[task.Output];
            actual.Shape.ShouldBe(task.Kind == TaskKindNames.TokenClassification ? [shape[0], shape[1], task.Labels.Count]
                : task.Kind == TaskKindNames.Regression ? [shape[0]] : [shape[0], task.Labels.Count]);
            var delta = 0f;
            for (var i = 0; i < expected.Length; i++)
            {
                // Token logits at padding are meaningless in both; only real tokens count.
                if (task.Kind == TaskKindNames.TokenClassification && mask[i / task.Labels.Count] == 0)
                {
                    continue;
                }
                delta = Math.Max(delta, Math.Abs(expected[i] - actual.Values[i]));
            }
            log.WriteLine($"{task.Output}: max |Δ| {delta:E2}");
            delta.ShouldBeLessThanOrEqualTo(Tolerance, task.Output);
            worst = Math.Max(worst, delta);
        }
        log.WriteLine($"all outputs: max |Δ| {worst:E2} over {rows.Rows.Count} rows of {rows.Length} tokens");
    }

    [Fact]
    public void Fp32_predictions_are_the_TorchSharp_predictors()
    {
        using var torchPredictor = MultiTaskPredictor.Load(checkpoint.Checkpoint, checkpoint.Plugins);
        using var onnx = OnnxMultiTaskPredictor.Load(Export("none"), new OnnxPredictorOptions { IntraOpThreads = 1 });

        var expected = torchPredictor.Predict(Samples);
        var actual = onnx.Predict(Samples);

        actual.Count.ShouldBe(expected.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            actual[i].Step.ShouldBe(expected[i].Step);
            actual[i].Notes.ShouldBe(expected[i].Notes);
            actual[i].Tasks.Select(t => t.TaskId).ShouldBe(expected[i].Tasks.Select(t => t.TaskId));
            foreach (var (want, got) in expected[i].Tasks.Zip(actual[i].Tasks))
            {
                ShouldMatch(got, want, Tolerance);
            }
        }
        // One task by id, as --task asks.
        onnx.Predict([Samples[1]], "pairs")[0].Tasks.ShouldHaveSingleItem().Label.ShouldBe(expected[1].Tasks.Single(t => t.TaskId == "pairs").Label);
        Should.Throw<ArgumentException>(() => onnx.Predict([Samples[0]], "nope")).Message.ShouldContain("the export's tasks are pairs, pos-tagging");
    }

    [Fact]
    public void Int8_predictions_agree_with_fp32_on_the_validation_texts()
    {
        var texts = ValidationTexts(checkpoint.Plugins).ToList();
        using var fp32 = OnnxMultiTaskPredictor.Load(Export("none"), new OnnxPredictorOptions { IntraOpThreads = 1 });
        using var int8 = OnnxMultiTaskPredictor.Load(Export("int8"), new OnnxPredictorOptions { IntraOpThreads = 1 });
        int8.Description.Quantization.ShouldBe("int8");
        new FileInfo(Path.Combine(int8.Directory, "model.onnx")).Length.ShouldBeLessThan(new FileInfo(Path.Combine(fp32.Directory, "model.onnx")).Length);

        var agreed = new Dictionary<string, (int Same, int Total)>();
        foreach (var batch in texts.Chunk(32))
        {
            var inputs = batch.Select(t => new PredictionInput(t)).ToList();
            foreach (var (a, b) in fp32.Predict(inputs).Zip(int8.Predict(inputs)))
            {
                foreach (var (x, y) in a.Tasks.Zip(b.Tasks))
                {
                    // A token task's unit is the word, as its metric (token accuracy) counts; the others', the text.
                    var (same, total) = agreed.GetValueOrDefault(x.TaskId);
                    agreed[x.TaskId] = x.Words is { } words
                        ? (same + words.Zip(y.Words!).Count(w => w.First.Label == w.Second.Label), total + words.Count)
                        : (same + (Agree(x, y) ? 1 : 0), total + 1);
                }
            }
        }
        foreach (var (task, (same, total)) in agreed)
        {
            log.WriteLine($"{task}: int8 agrees with fp32 on {same}/{total} validation texts (words of a token task) ({100.0 * same / total:0.00}%)");
            ((double)same / total).ShouldBeGreaterThanOrEqualTo(0.99, task);
        }
    }

    [Fact]
    public void Smoothing_calibrated_on_training_texts_keeps_the_fp32_outputs()
    {
        // SmoothQuant divides each activation channel by s and multiplies the weights reading it by s: the same function.
        // (That it brings int8 closer to fp32 is SmoothQuantLayerTests': these few-step test heads hardly read the encoder.)
        var calibration = Int8Calibrator.Measure(checkpoint.Checkpoint, TrainingTexts(checkpoint.Plugins).ToList());
        IReadOnlyDictionary<string, OnnxOutput> Outputs(Int8Calibration? smoothing)
        {
            using var onnx = OnnxMultiTaskPredictor.Load(Export("none", smoothing), new OnnxPredictorOptions { IntraOpThreads = 1 });
            return onnx.Run(onnx.Encode(Samples, onnx.Tasks), onnx.Tasks.Select(t => t.Output));
        }

        var fp32 = Outputs(null);
        var smoothed = Outputs(calibration);

        calibration.ActivationMaxima.Count.ShouldBe(4 * EncoderCatalog.ConfigOf(EncoderCatalog.Tiny).LayerCount);
        foreach (var (output, expected) in fp32)
        {
            var delta = expected.Values.Zip(smoothed[output].Values, (a, b) => Math.Abs(a - b)).Max();
            log.WriteLine($"{output}: max |smoothed − fp32| {delta:E2}");
            delta.ShouldBeLessThanOrEqualTo(Tolerance, output);
        }
    }

    [Fact]
    public void Calibrating_texts_together_measures_what_each_text_alone_does()
    {
        // The probe runs a batch of texts at once: their padding must count in neither the maxima nor Σ x xᵀ.
        var texts = TrainingTexts(checkpoint.Plugins).GroupBy(t => t.TaskId).First(g => g.Count() >= 5).Take(5).ToList();
        using (var fp32 = OnnxMultiTaskPredictor.Load(Export("none"), new OnnxPredictorOptions { IntraOpThreads = 1 }))
        {
            var task = fp32.Tasks.Single(t => t.Id == texts[0].TaskId);
            texts.Select(t => fp32.Encode([t.Input], [task]).Length).Distinct().Count().ShouldBeGreaterThan(1, "texts of different token counts, so the batch is padded");
        }

        var together = Int8Calibrator.Measure(checkpoint.Checkpoint, texts);
        var alone = texts.Select(t => Int8Calibrator.Measure(checkpoint.Checkpoint, [t])).ToList();

        together.InputCorrelations.ShouldNotBeNull().Keys.Order().ShouldBe(together.ActivationMaxima.Keys.Order());
        foreach (var (site, maxima) in together.ActivationMaxima)
        {
            var expected = Enumerable.Range(0, maxima.Length).Select(c => alone.Max(a => a.ActivationMaxima[site][c]));
            maxima.Zip(expected, (a, b) => Math.Abs(a - b) / Math.Max(1e-3f, b)).Max().ShouldBeLessThan(1e-4f, site);
            var sum = together.InputCorrelations[site];
            var scale = sum.Max(Math.Abs);
            for (var i = 0; i < sum.Length; i++)
            {
                Math.Abs(sum[i] - alone.Sum(a => a.InputCorrelations![site][i])).ShouldBeLessThan(1e-4f * scale, site);
            }
        }
    }

    [Fact]
    public void Export_int8_with_the_plugins_calibrates_smoothing_on_their_training_texts()
    {
        var export = Path.Combine(checkpoint.NewFolder(), "onnx");

        var run = HostRun.Of("export", "--format", "onnx", "--quantize", "int8", "--plugins", checkpoint.Plugins, "--checkpoint", checkpoint.Checkpoint, "--out", export);

        run.ExitCode.ShouldBe(0, run.Error);
        run.Output.ShouldContain($"SmoothQuant α {Int8Calibration.DefaultAlpha.ToString(System.Globalization.CultureInfo.InvariantCulture)} and GPTQ rounding calibrated on ");
        using var int8 = OnnxMultiTaskPredictor.Load(export, new OnnxPredictorOptions { IntraOpThreads = 1 });
        int8.Predict(Samples).Count.ShouldBe(Samples.Length);
        var fp32Only = HostRun.Of("export", "--format", "onnx", "--plugins", checkpoint.Plugins, "--checkpoint", checkpoint.Checkpoint, "--out", checkpoint.NewFolder());
        fp32Only.ExitCode.ShouldBe(2);
        fp32Only.Error.ShouldContain("--plugins calibrates --quantize int8");
    }

    [Fact]
    public void Export_int8_whose_calibration_cannot_read_a_training_file_exits_2_naming_it()
    {
        // The checkpoint's own plugins, one task's training file gone: the DLLs still match, the data cannot be read.
        var plugins = checkpoint.NewFolder();
        foreach (var file in Directory.GetFiles(checkpoint.Plugins, "*", SearchOption.AllDirectories))
        {
            var copy = Path.Combine(plugins, Path.GetRelativePath(checkpoint.Plugins, file));
            Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
            File.Copy(file, copy);
        }
        var missing = Directory.GetFiles(plugins, "train.jsonl", SearchOption.AllDirectories).Order(StringComparer.Ordinal).First();
        File.Delete(missing);

        var run = HostRun.Of("export", "--format", "onnx", "--quantize", "int8", "--plugins", plugins, "--checkpoint", checkpoint.Checkpoint, "--out", checkpoint.NewFolder());

        run.ExitCode.ShouldBe(2, run.Output + run.Error);
        run.Error.ShouldContain("calibrating int8 on the training texts");
        run.Error.ShouldContain(missing);
    }

    [Fact]
    public void An_int8_prediction_does_not_depend_on_the_other_texts_of_its_batch()
    {
        // Activations are quantized per token: a text batched with a long, padded neighbour must come out as it does
        // alone (with one scale for the whole batch, the neighbour's largest activation set every text's precision).
        using var int8 = OnnxMultiTaskPredictor.Load(Export("int8"), new OnnxPredictorOptions { IntraOpThreads = 1 });
        var batched = int8.Predict(Samples);
        for (var i = 0; i < Samples.Length; i++)
        {
            var alone = int8.Predict([Samples[i]]).Single();
            foreach (var (want, got) in alone.Tasks.Zip(batched[i].Tasks))
            {
                ShouldMatch(got, want, Tolerance);
            }
        }
    }

    [Fact]
    public void Top_layers_and_adapter_branches_are_exported_and_predict_as_the_TorchSharp_predictor()
    {
        foreach (var (sharing, branches) in new (string[], string[])[]
                 {
                     (["--sharing", "top-layers"], ["spam", "wordclass"]),
                     (["--sharing", "adapters", "--adapter-size", "8", "--task-groups", "spam, wordclass"], ["spam+wordclass", "spam+wordclass"]),
                     (["--sharing", "adapters", "--adapter-size", "8"], ["spam", "wordclass"]),
                 })
        {
            var (run, plugins) = Train(sharing);
            var export = Path.Combine(checkpoint.NewFolder(), "onnx");
            var written = HostRun.Of("export", "--format", "onnx", "--checkpoint", Path.Combine(run, "checkpoint"), "--out", export);
            written.ExitCode.ShouldBe(0, written.Error);
            using var torchPredictor = MultiTaskPredictor.Load(Path.Combine(run, "checkpoint"), plugins);
            using var onnx = OnnxMultiTaskPredictor.Load(export);

            onnx.Tasks.Select(t => t.Branch).ShouldBe(branches);
            foreach (var (want, got) in torchPredictor.Predict(Samples).Zip(onnx.Predict(Samples)))
            {
                foreach (var (x, y) in want.Tasks.Zip(got.Tasks))
                {
                    ShouldMatch(y, x, Tolerance);
                }
            }
            // Calibrated int8: every branch's sites measured on its own tasks' texts.
            if (sharing[1] == "top-layers")
            {
                var ckpt = Path.Combine(run, "checkpoint");
                var spamOnly = Int8Calibrator.Measure(ckpt, TrainingTexts(plugins).Where(t => t.TaskId == "spam").ToList());
                var both = Int8Calibrator.Measure(ckpt, TrainingTexts(plugins).ToList());
                // Spam's branch sees spam's texts only, whatever else calibrates.
                var spamSites = both.ActivationMaxima.Keys.Where(site => site.StartsWith("branch spam/", StringComparison.Ordinal)).ToList();
                spamSites.ShouldNotBeEmpty();
                foreach (var site in spamSites)
                {
                    both.ActivationMaxima[site].ShouldBe(spamOnly.ActivationMaxima[site], tolerance: 1e-4, site);
                }
                // A branch without texts of its own is measured on the others' rather than not at all, so it still exports.
                spamOnly.ActivationMaxima.Keys.ShouldContain(site => site.StartsWith("branch wordclass/", StringComparison.Ordinal));
                OnnxCheckpointExporter.Export(ckpt, checkpoint.NewFolder(), "int8", spamOnly).Tasks.Count.ShouldBe(2);
            }
            var int8 = HostRun.Of("export", "--format", "onnx", "--quantize", "int8", "--plugins", plugins, "--checkpoint", Path.Combine(run, "checkpoint"),
                "--out", checkpoint.NewFolder());
            int8.ExitCode.ShouldBe(0, string.Join(" ", sharing) + ": " + int8.Error);
        }
    }

    [Fact]
    public void A_head_of_a_plugins_own_design_is_listed_as_not_exported_with_the_reason()
    {
        // A head whose tensors are not the SDK's classifier.*: its forward is plugin code.
        var copy = checkpoint.CopyCheckpoint(manifest => manifest);
        using (var own = nn.Linear(64, 2))
        {
            own.save(Path.Combine(copy, "heads", "spam.bin"));
        }
        var export = Path.Combine(checkpoint.NewFolder(), "onnx");

        var result = HostRun.Of("export", "--format", "onnx", "--checkpoint", copy, "--out", export);

        result.ExitCode.ShouldBe(0, result.Error);
        result.Output.ShouldContain("not exported: task 'spam': its head (tensors bias, weight) is not the SDK's standard head");
        using var onnx = OnnxMultiTaskPredictor.Load(export);
        onnx.Tasks.Select(t => t.Id).ShouldNotContain("spam");
        onnx.Description.NotExported.ShouldHaveSingleItem().Id.ShouldBe("spam");
        var predict = HostRun.Of("predict", "--onnx", export, "--text", "hello", "--task", "spam");
        predict.ExitCode.ShouldBe(2);
        predict.Error.ShouldContain("Task 'spam' of the checkpoint cannot be predicted: it is not in the ONNX export");
    }

    [Fact]
    public void Predict_onnx_prints_the_table_predict_checkpoint_prints()
    {
        var export = Export("none");
        string[] text = ["--text", "the quick brown fox jumps over the lazy dog", "--pair", "a dog sleeps", "--threads", "1"];

        var fromCheckpoint = HostRun.Of(["predict", "--checkpoint", checkpoint.Checkpoint, "--plugins", checkpoint.Plugins, .. text]);
        var fromOnnx = HostRun.Of(["predict", "--onnx", export, .. text]);

        fromOnnx.ExitCode.ShouldBe(0, fromOnnx.Error);
        var lines = fromOnnx.Output.Split('\n');
        lines[0].ShouldStartWith($"onnx export {export} (fp32; checkpoint step 4, encoder tiny)");
        // Scores are printed to three digits: the fp32 graphs agree far closer than that.
        lines.Skip(1).ShouldBe(fromCheckpoint.Output.Split('\n').Skip(1));
        HostRun.Of(["predict", "--onnx", export, "--json", .. text]).Json.GetProperty("quantization").GetString().ShouldBe("none");
    }

    [Fact]
    public void Predict_onnx_in_its_own_process_never_loads_libtorch()
    {
        var export = Export("int8");

        // The dynamic loader lists every library it initialises (LD_DEBUG=libs), on standard error.
        using var host = HostProcess.Start(new Dictionary<string, string?> { ["LD_DEBUG"] = "libs" },
            "predict", "--onnx", export, "--text", "running", "--threads", "1");
        host.WaitForExit().ShouldBe(0, host.Error);

        host.Output.ShouldContain("onnx export");
        host.Error.ShouldContain("libonnxruntime.so");
        host.Error.ShouldNotContain("libtorch");
        host.Error.ShouldNotContain("LibTorchSharp");
    }

    [Fact]
    public void Bad_options_exit_2_naming_the_fix()
    {
        var quantize = HostRun.Of("export", "--checkpoint", checkpoint.Checkpoint, "--out", checkpoint.NewFolder(), "--quantize", "int8");
        quantize.ExitCode.ShouldBe(2);
        quantize.Error.ShouldContain("--quantize int8 applies to --format onnx only");

        var both = HostRun.Of("predict", "--checkpoint", checkpoint.Checkpoint, "--onnx", checkpoint.NewFolder(), "--text", "hi");
        both.ExitCode.ShouldBe(2);
        both.Error.ShouldContain("not both");

        var notExport = HostRun.Of("predict", "--onnx", checkpoint.NewFolder(), "--text", "hi");
        notExport.ExitCode.ShouldBe(2);
        notExport.Error.ShouldContain("it is not an ONNX export");

        HostRun.Of("export", "--format", "tflite", "--checkpoint", checkpoint.Checkpoint, "--out", checkpoint.NewFolder()).ExitCode.ShouldBe(2);
    }

    private string Export(string quantization, Int8Calibration? calibration = null)
    {
        var export = Path.Combine(checkpoint.NewFolder(), "onnx");
        var result = OnnxCheckpointExporter.Export(checkpoint.Checkpoint, export, quantization, calibration);
        result.NotExported.ShouldBeEmpty();
        return export;
    }

    private (string Run, string Plugins) Train(string[] sharing)
    {
        var plugins = checkpoint.CopyPlugins(without: ["Pairs", "SenseDomains", "Supersense", "PosTagging", "Syllables"]);
        var run = Path.Combine(checkpoint.NewFolder(), "run");
        var train = HostRun.Of(["train", "--encoder", "tiny", "--steps", "3", "--batch-size", "8", "--max-length", "64", "--plugins", plugins, "--out", run, .. sharing]);
        train.ExitCode.ShouldBe(0, train.Error);
        return (run, plugins);
    }

    // The SDK head of the task's kind, with the checkpoint's weights.
    private TaskHead HeadOf(CheckpointManifest.TaskEntry task, int hidden)
    {
        TaskHead head = task.Kind switch
        {
            TaskKindNames.TokenClassification => new TokenClassificationHead(hidden, task.Labels.Count, 0.1),
            TaskKindNames.Regression => new RegressionHead(hidden, 0.1),
            _ => new ClassificationHead(hidden, task.Labels.Count, 0.1),
        };
        head.load(Path.Combine(checkpoint.Checkpoint, task.HeadFile));
        head.eval();
        return head;
    }

    private static void ShouldMatch(TaskPrediction actual, TaskPrediction expected, double tolerance)
    {
        actual.TaskId.ShouldBe(expected.TaskId);
        actual.Kind.ShouldBe(expected.Kind);
        actual.Label.ShouldBe(expected.Label, expected.TaskId);
        actual.Labels.ShouldBe(expected.Labels, expected.TaskId);
        (actual.Value ?? 0).ShouldBe(expected.Value ?? 0, tolerance, expected.TaskId);
        actual.Scores.Keys.ShouldBe(expected.Scores.Keys, ignoreOrder: true, expected.TaskId);
        foreach (var (label, score) in expected.Scores)
        {
            actual.Scores[label].ShouldBe(score, tolerance, expected.TaskId);
        }
        actual.Words?.Select(w => (w.Word, w.Label)).ShouldBe(expected.Words?.Select(w => (w.Word, w.Label)), expected.TaskId);
    }

    // Same label or label set; a regression value within 0.05 (a twentieth of a syllable).
    private static bool Agree(TaskPrediction a, TaskPrediction b) =>
        a.Label == b.Label
        && (a.Labels ?? []).SequenceEqual(b.Labels ?? [])
        && Math.Abs((a.Value ?? 0) - (b.Value ?? 0)) <= 0.05;

    // The first texts of every sample task's training split, with the task (data/<task>/train.jsonl), to calibrate with.
    private static IEnumerable<(string TaskId, PredictionInput Input)> TrainingTexts(string plugins) =>
        Directory.GetFiles(plugins, "train.jsonl", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            .SelectMany(file => Texts(file).Select(text => (Path.GetFileName(Path.GetDirectoryName(file)!), new PredictionInput(text))));

    // The texts of every sample task's validation split (token tasks: the words joined by spaces).
    private static IEnumerable<string> ValidationTexts(string plugins) =>
        Directory.GetFiles(plugins, "validation.jsonl", SearchOption.AllDirectories).Order(StringComparer.Ordinal).SelectMany(Texts);

    // The first 100 texts of a split's file.
    private static IEnumerable<string> Texts(string file)
    {
        foreach (var line in File.ReadLines(file).Where(l => l.Length > 0).Take(100))
        {
            var row = System.Text.Json.JsonDocument.Parse(line).RootElement;
            yield return row.TryGetProperty("text", out var text)
                ? text.GetString()!
                : string.Join(' ', row.GetProperty("words").EnumerateArray().Select(w => w.GetString()));
        }
    }
}
