using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using MtlHost.Abstractions;
using MtlHost.Core.Encoders;
using MtlHost.Tests.Infrastructure;
using Shouldly;
using Xunit;
using static TorchSharp.torch;

namespace MtlHost.Tests.Inference;

/// <summary>
/// <c>mtlhost export</c>: the safetensors files hold exactly the checkpoint's tensors (read back here with a reader of
/// the test's own, compared to the modules TorchSharp loads), under Hugging Face names, and the Python sample reads them.
/// </summary>
[Collection(InferenceCollection.Name)]
public sealed class ExportTests(InferenceCheckpoint checkpoint)
{
    [Fact]
    public void The_encoder_and_heads_round_trip_exactly_under_Hugging_Face_names()
    {
        var export = Export();

        using var encoder = new BertEncoder(EncoderCatalog.ConfigOf(EncoderCatalog.Tiny));
        encoder.load(Path.Combine(checkpoint.Checkpoint, "encoder.bin"));
        var exported = ReadSafeTensors(Path.Combine(export, "encoder.safetensors"));
        var expected = encoder.state_dict();
        exported.Keys.ShouldBe(expected.Keys, ignoreOrder: true);
        exported.Keys.ShouldContain("embeddings.word_embeddings.weight");
        exported.Keys.ShouldContain("encoder.layer.1.attention.self.query.weight");
        exported.Keys.ShouldContain("encoder.layer.0.output.LayerNorm.bias");
        exported.Keys.ShouldContain("pooler.dense.weight");
        foreach (var (name, tensor) in expected)
        {
            var (shape, values) = exported[name];
            shape.ShouldBe(tensor.shape, name);
            values.ShouldBe(tensor.data<float>().ToArray(), name);
        }

        using var head = new ClassificationHead(encoder.HiddenSize, 4, 0.1);
        head.load(Path.Combine(checkpoint.Checkpoint, "heads", "wordclass.bin"));
        var exportedHead = ReadSafeTensors(Path.Combine(export, "heads", "wordclass.safetensors"));
        exportedHead.Keys.ShouldBe(["classifier.weight", "classifier.bias"], ignoreOrder: true);
        foreach (var (name, tensor) in head.state_dict())
        {
            exportedHead[name].Values.ShouldBe(tensor.data<float>().ToArray(), name);
        }
    }

    [Fact]
    public void The_description_gives_the_encoder_config_in_Hugging_Face_terms_and_each_task_head()
    {
        using var description = JsonDocument.Parse(File.ReadAllText(Path.Combine(Export(), "mtlhost-export.json")));
        var root = description.RootElement;

        var config = root.GetProperty("encoder").GetProperty("config");
        config.GetProperty("hidden_size").GetInt32().ShouldBe(64);
        config.GetProperty("num_hidden_layers").GetInt32().ShouldBe(2);
        config.GetProperty("num_attention_heads").GetInt32().ShouldBe(2);
        config.GetProperty("intermediate_size").GetInt32().ShouldBe(256);
        config.GetProperty("vocab_size").GetInt32().ShouldBe(30522);
        config.GetProperty("max_position_embeddings").GetInt32().ShouldBe(512);
        config.GetProperty("layer_norm_eps").GetDouble().ShouldBe(1e-12);
        root.GetProperty("encoder").GetProperty("max_length").GetInt32().ShouldBe(64);

        var tasks = root.GetProperty("tasks").EnumerateArray().ToDictionary(t => t.GetProperty("id").GetString()!);
        tasks.Keys.ShouldBe(InferenceCheckpoint.TaskIds, ignoreOrder: true);
        var tagging = tasks["pos-tagging"];
        tagging.GetProperty("kind").GetString().ShouldBe(nameof(TaskKind.TokenClassification));
        var head = tagging.GetProperty("head");
        head.GetProperty("file").GetString().ShouldBe("heads/pos-tagging.safetensors");
        var labels = tagging.GetProperty("labels").GetArrayLength();
        head.GetProperty("tensors").GetProperty("classifier.weight").GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ShouldBe([labels, 64]);
        head.GetProperty("forward").GetString()!.ShouldContain("first sub-token");
        tasks["syllables"].GetProperty("head").GetProperty("forward").GetString()!.ShouldContain("regressor.weight");
        tasks["pairs"].GetProperty("input").GetString()!.ShouldContain("[SEP] pair [SEP]");
    }

    [Fact]
    public async Task The_python_sample_reads_every_tensor_with_the_values_of_the_checkpoint()
    {
        var python = FindPython();
        if (python is null)
        {
            // xunit 2 cannot skip at run time; without python3 there is nothing to run the sample with.
            return;
        }
        var export = Export();

        var start = new ProcessStartInfo(python!, [Path.Combine(RepositoryPaths.Root, "samples", "export", "load_export.py"), export])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var reading = process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        var output = await reading;
        await process.WaitForExitAsync();
        process.ExitCode.ShouldBe(0, error);

        var sums = output.Split('\n').Where(l => l.StartsWith("tensor ", StringComparison.Ordinal)).Select(l => l.Split(' '))
            .ToDictionary(p => $"{p[1]}:{p[2]}", p => double.Parse(p[5]["sum=".Length..], CultureInfo.InvariantCulture));
        var files = Directory.GetFiles(export, "*.safetensors", SearchOption.AllDirectories);
        var count = 0;
        foreach (var file in files)
        {
            var relative = Path.GetRelativePath(export, file).Replace('\\', '/');
            foreach (var (name, (_, values)) in ReadSafeTensors(file))
            {
                sums[$"{relative}:{name}"].ShouldBe(values.Sum(v => (double)v), 1e-6 * Math.Max(1, values.Length), $"{relative}:{name}");
                count++;
            }
        }
        sums.Count.ShouldBe(count);
        output.ShouldContain("task pos-tagging TokenClassification");
    }

    [Fact]
    public void Export_of_a_missing_checkpoint_exits_2()
    {
        var run = HostRun.Of("export", "--checkpoint", Path.Combine(checkpoint.NewFolder(), "none"), "--out", checkpoint.NewFolder());

        run.ExitCode.ShouldBe(2);
        run.Error.ShouldContain("does not exist");
    }

    [Fact]
    public void Export_without_out_exits_2_naming_the_option()
    {
        var run = HostRun.Of("export", "--checkpoint", checkpoint.Checkpoint);

        run.ExitCode.ShouldBe(2);
        run.Error.ShouldContain("--out DIR is required");
    }

    private string Export()
    {
        var folder = Path.Combine(checkpoint.NewFolder(), "export");
        var run = HostRun.Of("export", "--checkpoint", checkpoint.Checkpoint, "--out", folder);
        run.ExitCode.ShouldBe(0, run.Error);
        return folder;
    }

    private static string? FindPython() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
        .Select(d => Path.Combine(d, "python3")).FirstOrDefault(File.Exists);

    // A minimal safetensors reader of the test's own (F32 only), independent of the exporter's code.
    private static Dictionary<string, (long[] Shape, float[] Values)> ReadSafeTensors(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var length = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        using var header = JsonDocument.Parse(Encoding.UTF8.GetString(bytes, 8, length));
        var tensors = new Dictionary<string, (long[], float[])>();
        foreach (var entry in header.RootElement.EnumerateObject().Where(e => e.Name != "__metadata__"))
        {
            entry.Value.GetProperty("dtype").GetString().ShouldBe("F32");
            var shape = entry.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            var offsets = entry.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            var values = new float[(offsets[1] - offsets[0]) / 4];
            Buffer.BlockCopy(bytes, 8 + length + offsets[0], values, 0, values.Length * 4);
            values.Length.ShouldBe((int)shape.Aggregate(1L, (a, b) => a * b));
            tensors[entry.Name] = (shape, values);
        }
        return tensors;
    }
}
