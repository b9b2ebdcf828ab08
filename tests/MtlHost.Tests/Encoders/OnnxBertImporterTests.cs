using System.Text;
using MtlHost.Core.Encoders;
using MtlHost.Core.Encoders.Onnx;
using Shouldly;
using Xunit;
using static TorchSharp.torch;

namespace MtlHost.Tests.Encoders;

/// <summary>
/// The ONNX importer on small synthetic exports: exact round trip, graph-based naming, inferred config, and the
/// messages for broken files.
/// </summary>
/// <remarks>
/// The synthetic models have the structure PyTorch's exporter gives BERT (anonymous [in, out] MatMul weights
/// added to named biases, a Reshape to [B, T, heads, head size], a decomposed LayerNorm, a Gemm pooler) but
/// only the nodes the importer reads; they are not meant to run.
/// </remarks>
public sealed class OnnxBertImporterTests
{
    private static readonly BertConfig Small = new(
        vocabularySize: 50, hiddenSize: 16, layerCount: 2, headCount: 4, intermediateSize: 24,
        maxPositions: 20, typeVocabularySize: 2, layerNormEpsilon: 1e-12, hiddenDropout: 0.1, attentionDropout: 0.1);

    [Fact]
    public void Round_trip_copies_every_parameter_exactly_and_infers_the_config()
    {
        using var source = NewEncoder(Small, seed: 1);
        var export = SyntheticExport.From(source);

        using var imported = OnnxBertImporter.Load(new MemoryStream(export.Serialize()), out var report);

        report.Config.ShouldBe(Small);
        AssertSameParameters(source, imported);
        report.Sources["encoder.layer.1.intermediate.dense.weight"].ShouldEndWith("(MatMul [in, out], transposed)");
        report.Sources["pooler.dense.weight"].ShouldEndWith("(Gemm transB=1 [out, in])");
        report.IgnoredInitializers.ShouldContain("embeddings.position_ids");
    }

    [Fact]
    public void A_name_prefix_such_as_bert_is_recognised()
    {
        using var source = NewEncoder(Small, seed: 2);
        var export = SyntheticExport.From(source, prefix: "bert.");

        using var imported = OnnxBertImporter.Load(new MemoryStream(export.Serialize()));

        AssertSameParameters(source, imported);
    }

    [Fact]
    public void Head_count_and_epsilon_come_from_the_graph()
    {
        var config = Small with { HeadCount = 2, LayerNormEpsilon = 1e-5 };
        using var source = NewEncoder(config, seed: 3);
        var export = SyntheticExport.From(source);

        using var imported = OnnxBertImporter.Load(new MemoryStream(export.Serialize()), out var report);

        report.Config.HeadCount.ShouldBe(2);
        report.Config.LayerNormEpsilon.ShouldBe(1e-5);
    }

    [Fact]
    public void A_graph_without_a_head_reshape_needs_the_head_count_from_the_caller()
    {
        using var source = NewEncoder(Small, seed: 4);
        var export = SyntheticExport.From(source);
        export.Nodes.RemoveAll(n => n.OpType == "Reshape");
        var bytes = export.Serialize();

        Should.Throw<InvalidDataException>(() => OnnxBertImporter.Load(new MemoryStream(bytes)))
            .Message.ShouldContain("Pass headCount");
        using var imported = OnnxBertImporter.Load(new MemoryStream(bytes), out var report, headCount: 4);
        report.Config.HeadCount.ShouldBe(4);
    }

    [Fact]
    public void A_missing_weight_is_named()
    {
        using var source = NewEncoder(Small, seed: 5);
        var export = SyntheticExport.From(source);
        export.RemoveLinearWeight("encoder.layer.1.attention.self.value");

        Should.Throw<InvalidDataException>(() => OnnxBertImporter.Load(new MemoryStream(export.Serialize())))
            .Message.ShouldContain("encoder.layer.1.attention.self.value.weight");
    }

    [Fact]
    public void A_missing_bias_leaves_its_weight_unnamed_and_both_are_reported()
    {
        using var source = NewEncoder(Small, seed: 6);
        var export = SyntheticExport.From(source);
        export.Initializers.RemoveAll(t => t.Name == "encoder.layer.0.output.dense.bias");

        var message = Should.Throw<InvalidDataException>(() => OnnxBertImporter.Load(new MemoryStream(export.Serialize()))).Message;

        message.ShouldContain("encoder.layer.0.output.dense.weight");
        message.ShouldContain("encoder.layer.0.output.dense.bias");
    }

    [Fact]
    public void A_wrong_shape_names_the_tensor_and_both_shapes()
    {
        using var source = NewEncoder(Small, seed: 7);
        var export = SyntheticExport.From(source);
        var gamma = export.Initializers.Single(t => t.Name == "encoder.layer.1.attention.output.LayerNorm.weight");
        gamma.Dims = [15];
        gamma.Raw = gamma.Raw[..(15 * 4)];

        var message = Should.Throw<InvalidDataException>(() => OnnxBertImporter.Load(new MemoryStream(export.Serialize()))).Message;

        message.ShouldContain("'encoder.layer.1.attention.output.LayerNorm.weight'");
        message.ShouldContain("[15]");
        message.ShouldContain("[16]");
    }

    [Fact]
    public void An_unsupported_data_type_names_the_tensor_and_the_type()
    {
        using var source = NewEncoder(Small, seed: 8);
        var export = SyntheticExport.From(source);
        var weight = export.Initializers.Single(t => t.Name == "embeddings.LayerNorm.weight");
        weight.DataType = 3; // INT8
        weight.Raw = new byte[16];

        var message = Should.Throw<InvalidDataException>(() => OnnxBertImporter.Load(new MemoryStream(export.Serialize()))).Message;

        message.ShouldContain("'embeddings.LayerNorm.weight'");
        message.ShouldContain("INT8");
    }

    [Fact]
    public void Float_data_and_double_tensors_load_like_raw_float_data()
    {
        using var source = NewEncoder(Small, seed: 9);
        var export = SyntheticExport.From(source);
        export.Initializers.Single(t => t.Name == "embeddings.LayerNorm.bias").StoreAsFloatData = true;
        var gamma = export.Initializers.Single(t => t.Name == "encoder.layer.0.output.LayerNorm.weight");
        gamma.DataType = 11; // DOUBLE
        gamma.Raw = gamma.FloatsAsDoubleBytes();

        using var imported = OnnxBertImporter.Load(new MemoryStream(export.Serialize()));

        AssertSameParameters(source, imported);
    }

    [Fact]
    public void Truncated_or_foreign_bytes_fail_with_a_clear_message()
    {
        using var source = NewEncoder(Small, seed: 10);
        var bytes = SyntheticExport.From(source).Serialize();

        Should.Throw<InvalidDataException>(() => OnnxBertImporter.Load(new MemoryStream(bytes[..(bytes.Length / 2)])))
            .Message.ShouldContain("truncated");
        Should.Throw<InvalidDataException>(() => OnnxBertImporter.Load(new MemoryStream(Encoding.UTF8.GetBytes("{\"not\": \"onnx\"}"))))
            .Message.ShouldContain("ONNX");
    }

    private static BertEncoder NewEncoder(BertConfig config, int seed)
    {
        manual_seed(seed);
        return new BertEncoder(config);
    }

    private static void AssertSameParameters(BertEncoder expected, BertEncoder actual)
    {
        var actualParameters = actual.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, parameter) in expected.named_parameters())
        {
            var copy = actualParameters[name];
            copy.shape.ShouldBe(parameter.shape, name);
            copy.eq(parameter).all().item<bool>().ShouldBeTrue(name);
        }
    }

    /// <summary>
    /// Writes a BERT encoder as an ONNX model in the shape of PyTorch's export, with a minimal protobuf writer.
    /// </summary>
    private sealed class SyntheticExport
    {
        private static readonly string[] Linears =
        [
            "attention.self.query", "attention.self.key", "attention.self.value",
            "attention.output.dense", "intermediate.dense", "output.dense",
        ];

        public List<Initializer> Initializers { get; } = [];

        public List<Node> Nodes { get; } = [];

        public static SyntheticExport From(BertEncoder encoder, string prefix = "")
        {
            var export = new SyntheticExport();
            var config = encoder.Config;
            var anonymous = 900;
            var parameters = encoder.named_parameters().ToDictionary(p => p.name, p => p.parameter);

            export.Initializers.Add(Initializer.Int64(prefix + "embeddings.position_ids", [1, config.MaxPositions], Enumerable.Range(0, config.MaxPositions).Select(i => (long)i).ToArray()));
            foreach (var (name, parameter) in parameters)
            {
                var isLinearWeight = name.StartsWith("encoder.layer.", StringComparison.Ordinal) && name.EndsWith(".weight", StringComparison.Ordinal) && parameter.dim() == 2;
                if (!isLinearWeight)
                {
                    export.Initializers.Add(Initializer.Float(prefix + name, parameter));
                }
            }

            for (var layer = 0; layer < config.LayerCount; layer++)
            {
                foreach (var linear in Linears)
                {
                    var name = $"encoder.layer.{layer}.{linear}";
                    var weight = (anonymous++).ToString(System.Globalization.CultureInfo.InvariantCulture);
                    using var stored = parameters[name + ".weight"].t().contiguous();
                    export.Initializers.Add(Initializer.Float(weight, stored));
                    export.Nodes.Add(new Node("MatMul", [$"hidden_{name}", weight], [$"mm_{name}"]));
                    export.Nodes.Add(new Node("Add", [prefix + name + ".bias", $"mm_{name}"], [$"add_{name}"]));
                    if (linear == "attention.self.query")
                    {
                        // [B, T] come from Shape nodes at run time; [heads, head size] are stored constants.
                        export.Initializers.Add(Initializer.Int64($"heads_{layer}", [1], [config.HeadCount]));
                        export.Initializers.Add(Initializer.Int64($"head_size_{layer}", [1], [config.HeadSize]));
                        export.Nodes.Add(new Node("Concat", ["batch", "tokens", $"heads_{layer}", $"head_size_{layer}"], [$"shape_{layer}"]));
                        export.Nodes.Add(new Node("Reshape", [$"add_{name}", $"shape_{layer}"], [$"split_{layer}"]));
                    }
                }
            }

            // Embeddings LayerNorm, decomposed as the exporter writes it: (x - mean) / sqrt(var + eps) * weight + bias.
            export.Nodes.Add(Node.Constant("eps", config.LayerNormEpsilon));
            export.Nodes.Add(new Node("Add", ["variance", "eps"], ["variance_eps"]));
            export.Nodes.Add(new Node("Sqrt", ["variance_eps"], ["std"]));
            export.Nodes.Add(new Node("Div", ["centred", "std"], ["normalized"]));
            export.Nodes.Add(new Node("Mul", ["normalized", prefix + "embeddings.LayerNorm.weight"], ["scaled"]));

            export.Nodes.Add(new Node("Gemm", ["cls", prefix + "pooler.dense.weight", prefix + "pooler.dense.bias"], ["pooled"]) { TransB = true });
            return export;
        }

        public void RemoveLinearWeight(string linear)
        {
            var matMul = Nodes.Single(n => n.OpType == "MatMul" && n.Outputs[0] == $"mm_{linear}");
            Initializers.RemoveAll(t => t.Name == matMul.Inputs[1]);
        }

        public byte[] Serialize()
        {
            var graph = new ProtoWriter();
            foreach (var node in Nodes)
            {
                graph.Message(1, node.Write);
            }

            graph.String(2, "synthetic-bert");
            foreach (var initializer in Initializers)
            {
                graph.Message(5, initializer.Write);
            }

            var model = new ProtoWriter();
            model.Varint(1, 7);
            model.String(2, "pytorch");
            model.Message(7, w => w.Append(graph));
            return model.ToArray();
        }
    }

    private sealed class Initializer
    {
        public required string Name { get; init; }

        public required long[] Dims { get; set; }

        public required int DataType { get; set; }

        public required byte[] Raw { get; set; }

        public bool StoreAsFloatData { get; set; }

        public static Initializer Float(string name, Tensor value) => new()
        {
            Name = name,
            Dims = value.shape,
            DataType = 1,
            Raw = value.contiguous().bytes.ToArray(),
        };

        public static Initializer Int64(string name, long[] dims, long[] values) => new()
        {
            Name = name,
            Dims = dims,
            DataType = 7,
            Raw = values.SelectMany(BitConverter.GetBytes).ToArray(),
        };

        public byte[] FloatsAsDoubleBytes() =>
            System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(Raw).ToArray()
                .SelectMany(f => BitConverter.GetBytes((double)f)).ToArray();

        public void Write(ProtoWriter w)
        {
            w.PackedInt64(1, Dims);
            w.Varint(2, (ulong)DataType);
            if (StoreAsFloatData)
            {
                w.Bytes(4, Raw); // packed float_data has the same bytes as raw_data
            }

            w.String(8, Name);
            if (!StoreAsFloatData)
            {
                w.Bytes(9, Raw);
            }
        }
    }

    private sealed class Node(string opType, string[] inputs, string[] outputs)
    {
        private double? constantValue;

        public string OpType { get; } = opType;

        public string[] Inputs { get; } = inputs;

        public string[] Outputs { get; } = outputs;

        public bool TransB { get; init; }

        public static Node Constant(string output, double value) => new("Constant", [], [output]) { constantValue = value };

        public void Write(ProtoWriter w)
        {
            foreach (var input in Inputs)
            {
                w.String(1, input);
            }

            foreach (var output in Outputs)
            {
                w.String(2, output);
            }

            w.String(3, $"{OpType}_{Outputs[0]}");
            w.String(4, OpType);
            if (TransB)
            {
                w.Message(5, a => { a.String(1, "transB"); a.Varint(3, 1); a.Varint(20, 2); });
            }

            if (constantValue is { } value)
            {
                w.Message(5, a =>
                {
                    a.String(1, "value");
                    a.Message(5, t => { t.Varint(2, 1); t.Bytes(9, BitConverter.GetBytes((float)value)); });
                    a.Varint(20, 4);
                });
            }
        }
    }

    private sealed class ProtoWriter
    {
        private readonly MemoryStream buffer = new();

        public void Varint(int field, ulong value)
        {
            Tag(field, 0);
            WriteVarint(value);
        }

        public void Bytes(int field, ReadOnlySpan<byte> bytes)
        {
            Tag(field, 2);
            WriteVarint((ulong)bytes.Length);
            buffer.Write(bytes);
        }

        public void String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

        public void PackedInt64(int field, IEnumerable<long> values)
        {
            var packed = new ProtoWriter();
            foreach (var value in values)
            {
                packed.WriteVarint((ulong)value);
            }

            Bytes(field, packed.ToArray());
        }

        public void Message(int field, Action<ProtoWriter> write)
        {
            var inner = new ProtoWriter();
            write(inner);
            Bytes(field, inner.ToArray());
        }

        public void Append(ProtoWriter other) => other.buffer.WriteTo(buffer);

        public byte[] ToArray() => buffer.ToArray();

        private void Tag(int field, int wireType) => WriteVarint((ulong)((field << 3) | wireType));

        private void WriteVarint(ulong value)
        {
            while (value >= 0x80)
            {
                buffer.WriteByte((byte)(value | 0x80));
                value >>= 7;
            }

            buffer.WriteByte((byte)value);
        }
    }
}
