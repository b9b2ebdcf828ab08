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
/// (<see cref="Int8Weights"/>) and activations quantized per token (asymmetric uint8), in standard ONNX operators only;
/// embeddings, LayerNorm, softmax, GELU, attention scores, adapters and heads stay fp32. With an <see cref="Int8Calibration"/>
/// each of those inputs is first smoothed (SmoothQuant): divided per channel by s, the weights reading it multiplied by s,
/// the division folded into value's weights for the attention output's input and a Mul elsewhere; with its input
/// correlations too, the int8 weights are rounded by GPTQ (<see cref="GptqRounding"/>) on the smoothed inputs' correlation.
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
    private readonly Int8Calibration? _calibration;
    private readonly List<CalibrationProbeOutput> _probes = [];
    private string? _tokenMask;
    private readonly Dictionary<string, (sbyte[] Values, float[] Scales)> _quantized = new(StringComparer.Ordinal);
    private (string Site, float[] Correlation)? _lastSmoothedCorrelation;

    /// <summary>Starts the encoder's part of a graph and declares the three inputs.</summary>
    /// <param name="graph">The graph to build.</param>
    /// <param name="config">The encoder's structure.</param>
    /// <param name="quantize">Whether the layers' weight matrix multiplications are int8.</param>
    /// <param name="calibration">
    /// What calibration measured, or <see langword="null"/>: activation maxima and α to smooth each quantized matrix
    /// multiplication's input with (SmoothQuant), and its input correlations, if measured, to round the int8 weights with
    /// (GPTQ). Smoothing leaves the function unchanged; only its int8 rounding differs.
    /// </param>
    /// <param name="probe">Whether to add the calibration probe's outputs (<see cref="ProbeOutputs"/>) at every quantized input.</param>
    public BertOnnxGraph(OnnxGraphBuilder graph, BertConfig config, bool quantize, Int8Calibration? calibration = null, bool probe = false)
    {
        _graph = graph;
        _config = config;
        Quantize = quantize;
        _calibration = calibration;
        Probe = probe;
        foreach (var input in new[] { InputIds, AttentionMask, TokenTypeIds })
        {
            graph.Input(input, OnnxDataType.Int64, "batch", "tokens");
        }
    }

    /// <summary>Whether the graph has the calibration probe's outputs.</summary>
    public bool Probe { get; }

    /// <summary>The calibration probe's outputs, max |x| and Σ x xᵀ of every quantized input, when <see cref="Probe"/>.</summary>
    public IReadOnlyList<CalibrationProbeOutput> ProbeOutputs => _probes;

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
    /// <param name="branch">
    /// The encoder branch whose tasks' texts run through the layer when predicting (a top-layers or adapters branch), or
    /// <see langword="null"/> for a shared layer: the calibration probe's outputs say whose texts to measure them on.
    /// </param>
    /// <returns>Its output, [batch, tokens, hidden].</returns>
    public string Layer(string hidden, string mask, WeightSet weights, string prefix, (WeightSet Weights, string Prefix)? adapters = null,
        string? branch = null)
    {
        var outputSite = prefix + "attention.output.dense";
        var contextFactors = Factors(weights, outputSite, outputSite);
        var context = SelfAttention(hidden, mask, weights, prefix + "attention.self.", outputSite, contextFactors, branch);
        var projected = Linear(context, weights, outputSite, quantizable: true, inputFactors: contextFactors, inputSite: outputSite);
        if (adapters is { } a)
        {
            projected = Adapter(projected, a.Weights, a.Prefix + "attention.");
        }
        var attended = LayerNorm(_graph.Node("Add", [projected, hidden]), weights, prefix + "attention.output.LayerNorm");

        var widened = Gelu(SmoothedLinear(attended, weights, prefix + "intermediate.dense", branch));
        var output = SmoothedLinear(widened, weights, prefix + "output.dense", branch);
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
    /// <param name="inputFactors">Smoothing factors s of the input's channels, multiplied into W's columns (x arrives divided by them), or <see langword="null"/>.</param>
    /// <param name="outputDivisors">Factors to divide the output features by (folded into W's rows and b), or <see langword="null"/>.</param>
    /// <param name="inputSite">The calibration site of the input, whose correlation (if calibrated) rounds the int8 weights by GPTQ.</param>
    /// <returns>Output, [..., out].</returns>
    public string Linear(string x, WeightSet weights, string prefix, bool quantizable, float[]? inputFactors = null, float[]? outputDivisors = null,
        string? inputSite = null)
    {
        var (w, shape) = weights.Get(prefix + ".weight", 2);
        var (bias, _) = weights.Get(prefix + ".bias", 1);
        int rows = (int)shape[0], columns = (int)shape[1];
        if (outputDivisors is not null)
        {
            bias = bias.Select((v, r) => v / outputDivisors[r]).ToArray();
        }
        float[] Scaled() => inputFactors is null && outputDivisors is null ? w : Rescale(w, rows, columns, inputFactors, outputDivisors);
        var name = InitializerName(weights, prefix);
        if (Quantize && quantizable)
        {
            // Every adapters branch runs the shared encoder's layers: quantized once, the initializers shared.
            if (!_quantized.TryGetValue(name, out var quantized))
            {
                var correlation = Correlation(weights, inputSite, inputFactors);
                _quantized[name] = quantized = correlation is null
                    ? Int8Weights.Quantize(Scaled(), rows, columns)
                    : GptqRounding.Quantize(Scaled(), rows, columns, correlation);
            }
            return QuantizedLinear(x, quantized, bias, name, rows, columns);
        }
        var product = _graph.Node("MatMul", [x, _graph.Floats(name + ".weight_t", Transpose(Scaled(), rows, columns), columns, rows)]);
        return _graph.Node("Add", [product, _graph.Floats(name + ".bias", bias, rows)]);
    }

    // A quantizable Linear whose input nothing upstream can absorb the smoothing of: probed, divided by its factors (a Mul),
    // its weights multiplied by them.
    private string SmoothedLinear(string x, WeightSet weights, string site, string? branch)
    {
        AddProbe(x, weights, site, branch);
        var factors = Factors(weights, site, site);
        return Linear(Divide(x, factors, weights, site), weights, site, quantizable: true, inputFactors: factors, inputSite: site);
    }

    // Σ (x / s)(x / s)ᵀ of a site's input, as the weights read it: null when not calibrated for GPTQ. Query, key and value
    // read one site one after the other: scaled once.
    private float[]? Correlation(WeightSet weights, string? site, float[]? factors)
    {
        if (site is null || _calibration?.InputCorrelations is not { } correlations)
        {
            return null;
        }
        var key = InitializerName(weights, site);
        if (_lastSmoothedCorrelation is { } last && last.Site == key)
        {
            return last.Correlation;
        }
        if (!correlations.TryGetValue(key, out var correlation))
        {
            throw new ArgumentException($"The int8 calibration has no input correlation for '{key}'; measure it with this checkpoint's calibration probe.");
        }
        var smoothed = factors is null ? correlation : SmoothingFactors.SmoothedCorrelation(correlation, factors);
        _lastSmoothedCorrelation = (key, smoothed);
        return smoothed;
    }

    private static float[] Rescale(float[] w, int rows, int columns, float[]? inputFactors, float[]? outputDivisors)
    {
        var scaled = new float[w.Length];
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < columns; c++)
            {
                scaled[r * columns + c] = w[r * columns + c] * (inputFactors?[c] ?? 1f) / (outputDivisors?[r] ?? 1f);
            }
        }
        return scaled;
    }

    // The smoothing factors of an input site read by the given linears, or null when not smoothing.
    private float[]? Factors(WeightSet weights, string site, params string[] linears)
    {
        if (_calibration is null)
        {
            return null;
        }
        var key = InitializerName(weights, site);
        if (!_calibration.ActivationMaxima.TryGetValue(key, out var maxima))
        {
            throw new ArgumentException($"The int8 calibration has no activation maxima for '{key}'; measure them with this checkpoint's calibration probe.");
        }
        return SmoothingFactors.Compute(maxima, linears.Select(l => weights.Get(l + ".weight", 2).Values).ToList(), _calibration.Alpha);
    }

    // x / s as one Mul, for an input whose producer cannot absorb the factors: a LayerNorm whose output also feeds the
    // residual, or GELU (ONNX Runtime fuses it only with its scalar ½).
    private string Divide(string x, float[]? factors, WeightSet weights, string site) =>
        factors is null ? x : _graph.Node("Mul", [x, _graph.Floats(InitializerName(weights, site) + ".input_smoothing", factors.Select(f => 1 / f).ToArray(), factors.Length)]);

    // The probe's per-channel max |x| and Σ x xᵀ over batch and tokens, padding's rows zeroed so that a batch of texts
    // counts their tokens only.
    private void AddProbe(string x, WeightSet weights, string site, string? branch)
    {
        if (!Probe)
        {
            return;
        }
        _tokenMask ??= _graph.Node("Unsqueeze", [_graph.Node("Cast", [AttentionMask], attributes: NodeAttribute.Int("to", (int)OnnxDataType.Float)),
            _graph.Int64s(scalar: false, -1)]);
        var tokens = _graph.Node("Mul", [x, _tokenMask]);
        var key = InitializerName(weights, site);
        // Every adapters branch probes the shared encoder's sites: the branch in the name keeps the outputs apart.
        var name = weights.Source == EncoderSource && branch is not null ? $"{key}@{branch}" : key;
        var maxima = OnnxCheckpointExporter.CalibrationOutputPrefix + name;
        _graph.Node("ReduceMax", [_graph.Node("Abs", [tokens])], maxima, NodeAttribute.Ints("axes", 0, 1), NodeAttribute.Int("keepdims", 0));
        _graph.Output(maxima, OnnxDataType.Float, "channels");
        var rows = _graph.Node("Flatten", [tokens], attributes: NodeAttribute.Int("axis", 2));
        var correlation = OnnxCheckpointExporter.CorrelationOutputPrefix + name;
        _graph.Node("MatMul", [_graph.Node("Transpose", [rows]), rows], correlation);
        _graph.Output(correlation, OnnxDataType.Float, "channels", "channels");
        _probes.Add(new CalibrationProbeOutput(maxima, IsCorrelation: false, key, branch));
        _probes.Add(new CalibrationProbeOutput(correlation, IsCorrelation: true, key, branch));
    }

    // x · Wᵀ + b in int8: each token's activations quantized on their own, asymmetrically (scale (max − min) / 255 over
    // the token's range widened to hold 0, and its own zero point z), the weights per output feature (Int8Weights), the
    // integer product exact, then rescaled by both scales. A token's scale does not depend on the other tokens or texts
    // of the batch, so a text gets the same result alone as batched with others (ONNX Runtime's DynamicQuantizeMatMul
    // takes one scale for the whole input: a padded batch's outliers set every text's precision, and the predictions
    // depended on the batch). Asymmetric rather than symmetric (max |x| / 127 around 0): a skewed token (GELU's output is
    // ≥ −0.17) gets all 256 codes instead of half, and on MiniLM it kept 1–7 points more predictions equal to fp32.
    // MatMulInteger takes one zero point for its whole input, so it multiplies the raw codes and z · Σ_k w[k, n] is
    // subtracted afterwards, in int32, exactly.
    private string QuantizedLinear(string x, (sbyte[] Values, float[] Scales) weight, float[] bias, string name, int rows, int columns)
    {
        NodeAttribute[] lastAxis = [NodeAttribute.Ints("axes", -1), NodeAttribute.Int("keepdims", 1)];
        var low = _graph.Node("Min", [_graph.Node("ReduceMin", [x], attributes: lastAxis), _graph.Scalar(0f)]);
        var high = _graph.Node("Max", [_graph.Node("ReduceMax", [x], attributes: lastAxis), _graph.Scalar(0f)]);
        // A token whose activations are all 0 keeps a positive scale, so the divisions below stay finite.
        var tokenScale = _graph.Node("Max", [_graph.Node("Div", [_graph.Node("Sub", [high, low]), _graph.Scalar(CodeRange)]), _graph.Scalar(1e-12f)]);
        var zeroPoint = _graph.Node("Round", [_graph.Node("Neg", [_graph.Node("Div", [low, tokenScale])])]);
        // round(x / scale + z) saturated to 0…255: z is a whole number, so this is round(x / scale) + z.
        var codes = _graph.Node("QuantizeLinear", [_graph.Node("Add", [_graph.Node("Div", [x, tokenScale]), zeroPoint]), _graph.Scalar(1f), _graph.UInt8Scalar(0)]);
        var products = _graph.Node("MatMulInteger", [codes, _graph.Int8s(name + ".weight_int8", weight.Values, columns, rows)]);
        var offsets = _graph.Node("Mul", [_graph.Node("Cast", [zeroPoint], attributes: NodeAttribute.Int("to", (int)OnnxDataType.Int32)),
            _graph.Int32s(name + ".weight_int8_sums", ColumnSums(weight.Values, rows), rows)]);
        var real = _graph.Node("Cast", [_graph.Node("Sub", [products, offsets])], attributes: NodeAttribute.Int("to", (int)OnnxDataType.Float));
        var rescaled = _graph.Node("Mul", [_graph.Node("Mul", [real, tokenScale]), _graph.Floats(name + ".weight_scale", weight.Scales, rows)]);
        return _graph.Node("Add", [rescaled, _graph.Floats(name + ".bias", bias, rows)]);
    }

    // Codes 0…255 span a token's range.
    private const float CodeRange = 255f;

    // Σ_k w[k, n] of the int8 Wᵀ ([in, out] row-major), one per output feature.
    private static int[] ColumnSums(sbyte[] values, int rows)
    {
        var sums = new int[rows];
        for (var i = 0; i < values.Length; i++)
        {
            sums[i % rows] += values[i];
        }
        return sums;
    }

    private string SelfAttention(string hidden, string mask, WeightSet weights, string prefix, string outputSite, float[]? contextFactors, string? branch)
    {
        var heads = _config.HeadCount;
        var size = _config.HeadSize;
        var split = _graph.Int64s(scalar: false, 0, 0, heads, size);
        string Heads(string projection, long[] perm) =>
            _graph.Node("Transpose", [_graph.Node("Reshape", [projection, split])], attributes: NodeAttribute.Ints("perm", perm));

        // Query, key and value read the same input: one set of factors over all three weights.
        var inputSite = prefix[..^1];
        AddProbe(hidden, weights, inputSite, branch);
        var inputFactors = Factors(weights, inputSite, prefix + "query", prefix + "key", prefix + "value");
        var input = Divide(hidden, inputFactors, weights, inputSite);

        // softmax(q kᵀ / √d + mask) v, as scaled_dot_product_attention computes it.
        var q = Heads(Linear(input, weights, prefix + "query", quantizable: true, inputFactors, inputSite: inputSite), [0, 2, 1, 3]);
        var kT = Heads(Linear(input, weights, prefix + "key", quantizable: true, inputFactors, inputSite: inputSite), [0, 2, 3, 1]);
        // Each context channel is a mix of one value feature over the tokens, so its factor folds into value's output feature.
        var v = Heads(Linear(input, weights, prefix + "value", quantizable: true, inputFactors, contextFactors, inputSite), [0, 2, 1, 3]);
        var scores = _graph.Node("Div", [_graph.Node("MatMul", [q, kT]), _graph.Scalar(MathF.Sqrt(size))]);
        var probabilities = _graph.Node("Softmax", [_graph.Node("Add", [scores, mask])], attributes: NodeAttribute.Int("axis", -1));
        var context = _graph.Node("Transpose", [_graph.Node("MatMul", [probabilities, v])], attributes: NodeAttribute.Ints("perm", 0, 2, 1, 3));
        var merged = _graph.Node("Reshape", [context, _graph.Int64s(scalar: false, 0, 0, _config.HiddenSize)]);
        AddProbe(merged, weights, outputSite, branch);
        return merged;
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
