using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using static TorchSharp.torch;

namespace MtlHost.Core.Encoders.Onnx;

/// <summary>
/// Builds a <see cref="BertEncoder"/> from a BERT-family model exported to ONNX (for example
/// sentence-transformers/all-MiniLM-L6-v2), copying every weight exactly.
/// </summary>
/// <remarks>
/// <para>
/// Named initializers (<c>embeddings.*</c>, biases, LayerNorms, <c>pooler.*</c>) load by name; a common prefix
/// such as <c>bert.</c> is recognised. PyTorch's exporter stores the attention and feed-forward weight matrices
/// as anonymous initializers laid out [in, out]; each is named by following the graph from the <c>MatMul</c>
/// that reads it to the <c>Add</c> that applies a named bias, and transposed to TorchSharp's [out, in].
/// </para>
/// <para>
/// The configuration is inferred from the model: sizes from tensor shapes, the head count from the
/// <c>Reshape</c> that splits the first query projection into heads, the LayerNorm epsilon from the graph.
/// Any encoder parameter left without a source, any shape mismatch and any unsupported data type fails the
/// import with a message naming the tensor.
/// </para>
/// </remarks>
public static partial class OnnxBertImporter
{
    private const string WordEmbeddings = "embeddings.word_embeddings.weight";
    private const double BertDropout = 0.1;
    private const double BertLayerNormEpsilon = 1e-12;

    /// <summary>
    /// Reads an ONNX BERT model into a new encoder.
    /// </summary>
    /// <param name="onnxModel">The .onnx file's bytes; read to the end, not disposed.</param>
    /// <param name="headCount">The number of attention heads, when the graph does not show it.</param>
    /// <returns>An encoder in training mode holding the model's weights; the caller owns it.</returns>
    /// <exception cref="InvalidDataException">The model is not a BERT export this importer understands; the message says which tensor or node is the problem.</exception>
    public static BertEncoder Load(Stream onnxModel, int? headCount = null) => Load(onnxModel, out _, headCount);

    /// <summary>
    /// Reads an ONNX BERT model into a new encoder and reports where every parameter came from.
    /// </summary>
    /// <param name="onnxModel">The .onnx file's bytes; read to the end, not disposed.</param>
    /// <param name="report">The inferred configuration and the source of each parameter.</param>
    /// <param name="headCount">The number of attention heads, when the graph does not show it.</param>
    /// <returns>An encoder in training mode holding the model's weights; the caller owns it.</returns>
    /// <exception cref="InvalidDataException">The model is not a BERT export this importer understands; the message says which tensor or node is the problem.</exception>
    public static BertEncoder Load(Stream onnxModel, out OnnxImportReport report, int? headCount = null)
    {
        ArgumentNullException.ThrowIfNull(onnxModel);
        var stopwatch = Stopwatch.StartNew();

        var graph = OnnxGraph.ParseModel(ReadAll(onnxModel));
        var prefix = FindPrefix(graph);
        var sources = MapInitializersToParameters(graph, prefix);
        var config = InferConfig(graph, prefix, headCount);

        var encoder = new BertEncoder(config);
        try
        {
            CopyWeights(encoder, sources);
        }
        catch
        {
            encoder.Dispose();
            throw;
        }

        var parameterNames = encoder.named_parameters().Select(p => p.name).ToHashSet();
        var loaded = sources.Where(s => parameterNames.Contains(s.Key)).ToDictionary(s => s.Key, s => s.Value);
        var usedTensors = loaded.Values.Select(s => s.Tensor.Name).ToHashSet();
        report = new OnnxImportReport(
            config,
            loaded.ToDictionary(s => s.Key, s => s.Value.Describe()),
            graph.Initializers.Keys.Where(name => !usedTensors.Contains(name)).Order(StringComparer.Ordinal).ToList(),
            stopwatch.Elapsed);
        return encoder;
    }

    private static ReadOnlyMemory<byte> ReadAll(Stream stream)
    {
        if (stream is MemoryStream memory && memory.TryGetBuffer(out var buffer))
        {
            return buffer.AsMemory((int)memory.Position);
        }

        if (stream.CanSeek)
        {
            var remaining = stream.Length - stream.Position;
            if (remaining > Array.MaxLength)
            {
                throw new InvalidDataException($"The ONNX model is {remaining} bytes; models over 2 GB keep their weights in external files, which this importer does not read.");
            }

            var bytes = GC.AllocateUninitializedArray<byte>((int)remaining);
            stream.ReadExactly(bytes);
            return bytes;
        }

        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.GetBuffer().AsMemory(0, (int)copy.Length);
    }

    // Models exported from a task model (BertForSequenceClassification, …) prefix the encoder's names, e.g. "bert.".
    private static string FindPrefix(OnnxGraph graph)
    {
        var candidates = graph.Initializers.Keys
            .Where(name => name == WordEmbeddings || name.EndsWith("." + WordEmbeddings, StringComparison.Ordinal))
            .ToList();
        return candidates.Count switch
        {
            1 => candidates[0][..^WordEmbeddings.Length],
            0 => throw new InvalidDataException(
                $"The ONNX model has no initializer named '{WordEmbeddings}' (or '<prefix>.{WordEmbeddings}'); " +
                "it does not look like a BERT export with named weights."),
            _ => throw new InvalidDataException(
                $"The ONNX model has several word embedding tables ({string.Join(", ", candidates)}); " +
                "cannot tell which one is the encoder's."),
        };
    }

    private static Dictionary<string, WeightSource> MapInitializersToParameters(OnnxGraph graph, string prefix)
    {
        var sources = new Dictionary<string, WeightSource>(StringComparer.Ordinal);
        foreach (var tensor in graph.Initializers.Values)
        {
            var layout = LayoutOf(graph, tensor.Name);
            var name = layout.BiasName is { } bias ? bias[..^"bias".Length] + "weight" : tensor.Name;
            if (!name.StartsWith(prefix, StringComparison.Ordinal))
            {
                continue;
            }

            var source = new WeightSource(tensor, layout.Transposed, layout.Description);
            if (!sources.TryAdd(name[prefix.Length..], source))
            {
                throw new InvalidDataException(
                    $"Two ONNX initializers, '{sources[name[prefix.Length..]].Tensor.Name}' and '{tensor.Name}', " +
                    $"both map to encoder parameter '{name[prefix.Length..]}'.");
            }
        }

        return sources;
    }

    // How the graph uses a stored matrix tells its layout: MatMul(x, W) keeps W as [in, out], Gemm says so with transB.
    // For a matrix multiplied into x and then added to a named bias, the bias names the Linear layer.
    private static (bool Transposed, string Description, string? BiasName) LayoutOf(OnnxGraph graph, string initializer)
    {
        foreach (var node in graph.ConsumersOf(initializer))
        {
            if (node.OpType == "MatMul" && node.Inputs.Count == 2 && node.Inputs[1] == initializer)
            {
                var biasName = graph.ConsumersOf(node.Outputs[0])
                    .Where(add => add.OpType == "Add")
                    .SelectMany(add => add.Inputs)
                    .FirstOrDefault(input => input != node.Outputs[0] && input.EndsWith(".bias", StringComparison.Ordinal) && graph.Initializers.ContainsKey(input));
                return (true, "MatMul [in, out], transposed", biasName);
            }

            if (node.OpType == "Gemm" && node.Inputs.Count >= 2 && node.Inputs[1] == initializer)
            {
                var transB = node.Attribute("transB")?.Int == 1;
                var biasName = node.Inputs.Count > 2 && node.Inputs[2].EndsWith(".bias", StringComparison.Ordinal) ? node.Inputs[2] : null;
                return transB ? (false, "Gemm transB=1 [out, in]", biasName) : (true, "Gemm [in, out], transposed", biasName);
            }
        }

        return (false, "by name", null);
    }

    private static BertConfig InferConfig(OnnxGraph graph, string prefix, int? headCount)
    {
        var words = Require(graph, prefix + WordEmbeddings, rank: 2);
        var positions = Require(graph, prefix + "embeddings.position_embeddings.weight", rank: 2);
        var types = Require(graph, prefix + "embeddings.token_type_embeddings.weight", rank: 2);
        var intermediate = Require(graph, prefix + "encoder.layer.0.intermediate.dense.bias", rank: 1);
        var hidden = (int)words.Dims[1];

        var layerPattern = LayerIndex();
        var layers = graph.Initializers.Keys
            .Where(name => name.StartsWith(prefix, StringComparison.Ordinal))
            .Select(name => layerPattern.Match(name, prefix.Length))
            .Where(match => match.Success)
            .Select(match => int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture))
            .Distinct()
            .Order()
            .ToList();
        if (layers.Count == 0 || layers[^1] != layers.Count - 1)
        {
            throw new InvalidDataException(
                $"The ONNX model's layers should be numbered 0 to N-1 under '{prefix}encoder.layer.', but are [{string.Join(", ", layers)}].");
        }

        var config = new BertConfig(
            vocabularySize: (int)words.Dims[0],
            hiddenSize: hidden,
            layerCount: layers.Count,
            headCount: headCount ?? InferHeadCount(graph, prefix, hidden),
            intermediateSize: (int)intermediate.Dims[0],
            maxPositions: (int)positions.Dims[0],
            typeVocabularySize: (int)types.Dims[0],
            layerNormEpsilon: InferLayerNormEpsilon(graph, prefix + "embeddings.LayerNorm.weight") ?? BertLayerNormEpsilon,
            hiddenDropout: BertDropout,
            attentionDropout: BertDropout);
        return config;
    }

    private static OnnxTensor Require(OnnxGraph graph, string name, int rank)
    {
        if (!graph.Initializers.TryGetValue(name, out var tensor))
        {
            throw new InvalidDataException($"The ONNX model has no initializer '{name}', which a BERT encoder needs.");
        }

        if (tensor.Dims.Length != rank || tensor.Dims.Any(d => d <= 0 || d > int.MaxValue))
        {
            throw new InvalidDataException($"ONNX tensor '{name}' has shape {tensor.ShapeText}; a {rank}-dimensional shape was expected.");
        }

        return tensor;
    }

    // BertSelfAttention reshapes the query projection [B, T, H] to [B, T, heads, head size]; the last two
    // entries of that shape are constants in every export seen, while B and T come from Shape nodes.
    private static int InferHeadCount(OnnxGraph graph, string prefix, int hidden)
    {
        var queryBias = prefix + "encoder.layer.0.attention.self.query.bias";
        var reshape = graph.ConsumersOf(queryBias)
            .Where(n => n.OpType == "Add")
            .Select(add => FindDownstream(graph, add.Outputs[0], "Reshape", maxSteps: 3))
            .FirstOrDefault(n => n is not null);
        var shape = reshape is { Inputs.Count: >= 2 } ? TrailingConstants(graph, reshape.Inputs[1]) : [];

        if (shape.Count >= 2)
        {
            var (heads, headSize) = (shape[^2], shape[^1]);
            if (heads <= 0 && headSize > 0 && hidden % headSize == 0)
            {
                heads = hidden / headSize;
            }

            if (heads > 0 && hidden % heads == 0 && (headSize <= 0 || heads * headSize == hidden))
            {
                return (int)heads;
            }
        }

        throw new InvalidDataException(
            $"Cannot infer the number of attention heads: no Reshape to [batch, tokens, heads, head size] with constant " +
            $"heads and head size follows the Add of '{queryBias}'" +
            (shape.Count > 0 ? $" (its constant shape entries are [{string.Join(", ", shape)}])" : "") +
            ". Pass headCount to OnnxBertImporter.Load.");
    }

    private static OnnxNode? FindDownstream(OnnxGraph graph, string value, string opType, int maxSteps)
    {
        var frontier = new List<string> { value };
        for (var step = 0; step < maxSteps && frontier.Count > 0; step++)
        {
            var next = new List<string>();
            foreach (var node in frontier.SelectMany(graph.ConsumersOf))
            {
                if (node.OpType == opType)
                {
                    return node;
                }

                next.AddRange(node.Outputs);
            }

            frontier = next;
        }

        return null;
    }

    // The constant tail of a shape tensor: all of it if it is constant, else the constant inputs ending a Concat.
    private static List<long> TrailingConstants(OnnxGraph graph, string shape)
    {
        if (graph.Int64ConstantOf(shape) is { } constant)
        {
            return [.. constant];
        }

        var tail = new List<long>();
        if (graph.ProducerOf(shape) is { OpType: "Concat" } concat)
        {
            foreach (var part in concat.Inputs.Reverse())
            {
                if (graph.Int64ConstantOf(part) is not { } values)
                {
                    break;
                }

                tail.InsertRange(0, values);
            }
        }

        return tail;
    }

    // LayerNorm is either one LayerNormalization node or, from older exporters, the decomposed
    // (x - mean) / sqrt(var + eps) * weight + bias: Mul(weight) <- Div <- Sqrt <- Add(eps).
    private static double? InferLayerNormEpsilon(OnnxGraph graph, string layerNormWeight)
    {
        foreach (var node in graph.ConsumersOf(layerNormWeight))
        {
            if (node.OpType == "LayerNormalization")
            {
                return Shortest(node.Attribute("epsilon")?.Float ?? 1e-5f);
            }

            if (node.OpType != "Mul")
            {
                continue;
            }

            var normalized = node.Inputs.FirstOrDefault(i => i != layerNormWeight);
            if (normalized is not null
                && graph.ProducerOf(normalized) is { OpType: "Div", Inputs.Count: 2 } div
                && graph.ProducerOf(div.Inputs[1]) is { OpType: "Sqrt" } sqrt
                && graph.ProducerOf(sqrt.Inputs[0]) is { OpType: "Add" } add)
            {
                foreach (var input in add.Inputs)
                {
                    if (graph.FloatScalarOf(input) is { } epsilon)
                    {
                        return Shortest(epsilon);
                    }
                }
            }
        }

        return null;
    }

    // The graph stores eps as float32 (1e-12 becomes 9.9999999e-13); the shortest decimal that round-trips
    // gives back the number the model was configured with.
    private static double Shortest(float value) =>
        double.Parse(value.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    private static void CopyWeights(BertEncoder encoder, Dictionary<string, WeightSource> sources)
    {
        var parameters = encoder.named_parameters().ToList();
        var missing = parameters.Select(p => p.name).Where(name => !sources.ContainsKey(name)).ToList();
        if (missing.Count > 0)
        {
            throw new InvalidDataException(
                $"The ONNX model has no weights for {missing.Count} encoder parameter(s): {string.Join(", ", missing)}. " +
                "Each must be a named initializer, or a MatMul/Gemm weight whose output is added to a named bias.");
        }

        using var noGrad = no_grad();
        foreach (var (name, parameter) in parameters)
        {
            var source = sources[name];
            var stored = source.Tensor.Dims;
            var expected = source.Transposed ? parameter.shape.Reverse().ToArray() : parameter.shape;
            if (!stored.SequenceEqual(expected))
            {
                throw new InvalidDataException(
                    $"ONNX tensor '{source.Tensor.Name}' for encoder parameter '{name}' has shape {source.Tensor.ShapeText}, " +
                    $"but [{string.Join(", ", expected)}] was expected ({source.Layout}).");
            }

            using var scope = NewDisposeScope();
            var values = tensor(source.Tensor.ToFloats(), stored);
            parameter.copy_(source.Transposed ? values.t() : values);
        }
    }

    [GeneratedRegex(@"\Gencoder\.layer\.(\d+)\.", RegexOptions.CultureInvariant)]
    private static partial Regex LayerIndex();

    private sealed record WeightSource(OnnxTensor Tensor, bool Transposed, string Layout)
    {
        public string Describe() => $"{Tensor.Name} ({Layout})";
    }
}
