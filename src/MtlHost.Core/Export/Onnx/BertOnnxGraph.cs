using System.Globalization;
using MtlHost.Core.Encoders;
using MtlHost.Core.Encoders.Onnx;

namespace MtlHost.Core.Export.Onnx;

/// <summary>
/// Writes the nodes of the BERT encoder as <see cref="BertEncoder"/> computes it (post-LayerNorm layers, exact GELU, an
/// additive attention mask of float.MinValue at padding) from its <see cref="BertConfig"/> and its weights by their
/// Hugging Face names, so any catalog encoder (MiniLM, tiny) exports, with per-task branch layers and adapters.
/// </summary>
/// <remarks>
/// With <see cref="Quantize"/> every matrix multiplication by a weight of the transformer layers (query, key, value,
/// attention output, intermediate, output) becomes an int8 <c>MatMulInteger</c> with int8 weights per output feature
/// (<see cref="Int8Weights"/>) and activations quantized per token, in standard ONNX operators only; embeddings,
/// LayerNorm, softmax, GELU, attention scores, adapters and heads stay fp32.
/// </remarks>
internal sealed class BertOnnxGraph
{
    /// <summary>Name of the token ids input, int64 [batch, tokens].</summary>
    public const string InputIds = "input_ids";

    /// <summary>Name of the padding mask input, int64 [batch, tokens], 1 for tokens and 0 for padding.</summary>
    public const string AttentionMask = "attention_mask";

    /// <summary>Name of the segment ids input, int64 [batch, tokens].</summary>
    public const string TokenTypeIds = "token_type_ids";

    private readonly OnnxGraphBuilder _graph;
    private readonly BertConfig _config;

    /// <summary>Starts the encoder's part of a graph and declares the three inputs.</summary>
    public BertOnnxGraph(OnnxGraphBuilder graph, BertConfig config, bool quantize)
    {
        _graph = graph;
        _config = config;
        Quantize = quantize;
        foreach (var input in new[] { InputIds, AttentionMask, TokenTypeIds })
        {
            graph.Input(input, OnnxDataType.Int64, "batch", "tokens");
        }
    }

    /// <summary>Whether the layers' weight matrix multiplications are int8.</summary>
    public bool Quantize { get; }

    /// <summary>The graph being built.</summary>
    public OnnxGraphBuilder Graph => _graph;

    /// <summary>LayerNorm(word + position + token type embeddings), [batch, tokens, hidden].</summary>
    public string Embed(WeightSet encoder)
    {
        var words = _graph.Node("Gather", [Weight(encoder, "embeddings.word_embeddings.weight", 2), InputIds]);
        var shape = _graph.Node("Shape", [InputIds]);
        var length = _graph.Node("Gather", [shape, _graph.Int64s(scalar: true, 1)]);
        var positionIds = _graph.Node("Range", [_graph.Int64s(scalar: true, 0), length, _graph.Int64s(scalar: true, 1)]);
        var positions = _graph.Node("Gather", [Weight(encoder, "embeddings.position_embeddings.weight", 2), positionIds]);
        var types = _graph.Node("Gather", [Weight(encoder, "embeddings.token_type_embeddings.weight", 2), TokenTypeIds]);
        var sum = _graph.Node("Add", [_graph.Node("Add", [words, positions]), types]);
        return LayerNorm(sum, encoder, "embeddings.LayerNorm");
    }

    /// <summary>The additive attention mask, [batch, 1, 1, tokens]: 0 at tokens, float.MinValue at padding, as <see cref="BertEncoder.ExtendedAttentionMask"/>.</summary>
    public string AdditiveMask()
    {
        var padding = _graph.Node("Equal", [AttentionMask, _graph.Int64s(scalar: true, 0)]);
        var additive = _graph.Node("Where", [padding, _graph.Scalar(float.MinValue), _graph.Scalar(0f)]);
        return _graph.Node("Unsqueeze", [additive, _graph.Int64s(scalar: false, 1, 2)]);
    }

    /// <summary>One transformer layer.</summary>
    /// <param name="hidden">Its input, [batch, tokens, hidden].</param>
    /// <param name="mask">From <see cref="AdditiveMask"/>.</param>
    /// <param name="weights">The file holding the layer's weights.</param>
    /// <param name="prefix">The layer's name prefix there (<c>encoder.layer.3.</c>, or <c>layer.3.</c> in a top-layers branch).</param>
    /// <param name="adapters">An adapters branch and its layer prefix (<c>layer.3.</c>), or <see langword="null"/>.</param>
    /// <returns>Its output, [batch, tokens, hidden].</returns>
    public string Layer(string hidden, string mask, WeightSet weights, string prefix, (WeightSet Weights, string Prefix)? adapters = null)
    {
        var context = SelfAttention(hidden, mask, weights, prefix + "attention.self.");
        var projected = Linear(context, weights, prefix + "attention.output.dense", quantizable: true);
        if (adapters is { } a)
        {
            projected = Adapter(projected, a.Weights, a.Prefix + "attention.");
        }
        var attended = LayerNorm(_graph.Node("Add", [projected, hidden]), weights, prefix + "attention.output.LayerNorm");

        var widened = Gelu(Linear(attended, weights, prefix + "intermediate.dense", quantizable: true));
        var output = Linear(widened, weights, prefix + "output.dense", quantizable: true);
        if (adapters is { } b)
        {
            output = Adapter(output, b.Weights, b.Prefix + "output.");
        }
        return LayerNorm(_graph.Node("Add", [output, attended]), weights, prefix + "output.LayerNorm");
    }

    /// <summary>x · Wᵀ + b of a Hugging Face <c>Linear</c> (<c>&lt;prefix&gt;.weight</c> [out, in], <c>&lt;prefix&gt;.bias</c> [out]).</summary>
    /// <param name="x">Input, [..., in].</param>
    /// <param name="weights">The file holding the weights.</param>
    /// <param name="prefix">The layer's name.</param>
    /// <param name="quantizable">Whether it is one of the encoder's matrix multiplications that <see cref="Quantize"/> makes int8.</param>
    /// <returns>Output, [..., out].</returns>
    public string Linear(string x, WeightSet weights, string prefix, bool quantizable)
    {
        var (w, shape) = weights.Get(prefix + ".weight", 2);
        var (bias, _) = weights.Get(prefix + ".bias", 1);
        int rows = (int)shape[0], columns = (int)shape[1];
        var name = InitializerName(weights, prefix);
        if (Quantize && quantizable)
        {
            return QuantizedLinear(x, Int8Weights.Quantize(w, rows, columns), bias, name, rows, columns);
        }
        var product = _graph.Node("MatMul", [x, _graph.Floats(name + ".weight_t", Transpose(w, rows, columns), columns, rows)]);
        return _graph.Node("Add", [product, _graph.Floats(name + ".bias", bias, rows)]);
    }

    // x · Wᵀ + b in int8: each token's activations quantized on their own (symmetric, scale max |x| / 127, stored as
    // uint8 around a zero point of 128), the weights per output feature (Int8Weights), the integer product exact, then
    // rescaled by both scales. A token's scale does not depend on the other tokens or texts of the batch, so a text
    // gets the same result alone as batched with others (ONNX Runtime's DynamicQuantizeMatMul takes one scale for the
    // whole input: a padded batch's outliers set every text's precision, and the predictions depended on the batch).
    private string QuantizedLinear(string x, (sbyte[] Values, float[] Scales) weight, float[] bias, string name, int rows, int columns)
    {
        var largest = _graph.Node("ReduceMax", [_graph.Node("Abs", [x])], attributes: [NodeAttribute.Ints("axes", -1), NodeAttribute.Int("keepdims", 1)]);
        // A token whose activations are all 0 keeps a positive scale, so the division below stays finite.
        var tokenScale = _graph.Node("Max", [_graph.Node("Div", [largest, _graph.Scalar(Int8Weights.Limit)]), _graph.Scalar(1e-12f)]);
        var zeroPoint = _graph.UInt8Scalar(ActivationZeroPoint);
        var codes = _graph.Node("QuantizeLinear", [_graph.Node("Div", [x, tokenScale]), _graph.Scalar(1f), zeroPoint]);
        var products = _graph.Node("MatMulInteger", [codes, _graph.Int8s(name + ".weight_int8", weight.Values, columns, rows), zeroPoint]);
        var real = _graph.Node("Cast", [products], attributes: NodeAttribute.Int("to", (int)OnnxDataType.Float));
        var rescaled = _graph.Node("Mul", [_graph.Node("Mul", [real, tokenScale]), _graph.Floats(name + ".weight_scale", weight.Scales, rows)]);
        return _graph.Node("Add", [rescaled, _graph.Floats(name + ".bias", bias, rows)]);
    }

    // The uint8 code of an activation of 0: codes 1…255 stand for −127…127 times the token's scale.
    private const byte ActivationZeroPoint = 128;

    private string SelfAttention(string hidden, string mask, WeightSet weights, string prefix)
    {
        var heads = _config.HeadCount;
        var size = _config.HeadSize;
        var split = _graph.Int64s(scalar: false, 0, 0, heads, size);
        string Heads(string projection, long[] perm) =>
            _graph.Node("Transpose", [_graph.Node("Reshape", [projection, split])], attributes: NodeAttribute.Ints("perm", perm));

        // softmax(q kᵀ / √d + mask) v, as scaled_dot_product_attention computes it.
        var q = Heads(Linear(hidden, weights, prefix + "query", quantizable: true), [0, 2, 1, 3]);
        var kT = Heads(Linear(hidden, weights, prefix + "key", quantizable: true), [0, 2, 3, 1]);
        var v = Heads(Linear(hidden, weights, prefix + "value", quantizable: true), [0, 2, 1, 3]);
        var scores = _graph.Node("Div", [_graph.Node("MatMul", [q, kT]), _graph.Scalar(MathF.Sqrt(size))]);
        var probabilities = _graph.Node("Softmax", [_graph.Node("Add", [scores, mask])], attributes: NodeAttribute.Int("axis", -1));
        var context = _graph.Node("Transpose", [_graph.Node("MatMul", [probabilities, v])], attributes: NodeAttribute.Ints("perm", 0, 2, 1, 3));
        return _graph.Node("Reshape", [context, _graph.Int64s(scalar: false, 0, 0, _config.HiddenSize)]);
    }

    // hidden + up(GELU(down(hidden))), Houlsby et al.'s bottleneck adapter (BottleneckAdapter).
    private string Adapter(string hidden, WeightSet weights, string prefix)
    {
        var down = Gelu(Linear(hidden, weights, prefix + "down", quantizable: false));
        return _graph.Node("Add", [hidden, Linear(down, weights, prefix + "up", quantizable: false)]);
    }

    private string LayerNorm(string x, WeightSet weights, string prefix) =>
        _graph.Node("LayerNormalization", [x, Weight(weights, prefix + ".weight", 1), Weight(weights, prefix + ".bias", 1)],
            attributes: [NodeAttribute.Int("axis", -1), NodeAttribute.Float("epsilon", (float)_config.LayerNormEpsilon)]);

    // The exact GELU, x · ½ · (1 + erf(x / √2)), in the form ONNX Runtime fuses into its Gelu kernel.
    private string Gelu(string x)
    {
        var erf = _graph.Node("Erf", [_graph.Node("Div", [x, _graph.Scalar(MathF.Sqrt(2f))])]);
        var scaled = _graph.Node("Mul", [x, _graph.Node("Add", [erf, _graph.Scalar(1f)])]);
        return _graph.Node("Mul", [scaled, _graph.Scalar(0.5f)]);
    }

    private string Weight(WeightSet weights, string name, int rank)
    {
        var (values, shape) = weights.Get(name, rank);
        return _graph.Floats(InitializerName(weights, name), values, shape);
    }

    // Initializer names carry their file, so a branch's copy of layer 5 does not clash with the encoder's.
    private static string InitializerName(WeightSet weights, string name) =>
        weights.Source == EncoderSource ? name : $"{weights.Source}/{name}";

    /// <summary>The <see cref="WeightSet.Source"/> of the shared encoder's weights.</summary>
    public const string EncoderSource = "the encoder";

    private static float[] Transpose(float[] w, int rows, int columns)
    {
        var t = new float[w.Length];
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < columns; c++)
            {
                t[c * rows + r] = w[r * columns + c];
            }
        }
        return t;
    }

    /// <summary>The first index of a layer name (<c>layer.4.…</c> gives 4), or -1.</summary>
    public static int LayerIndex(string tensorName)
    {
        var parts = tensorName.Split('.');
        return parts.Length > 2 && parts[0] == "layer" && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var index) ? index : -1;
    }
}
