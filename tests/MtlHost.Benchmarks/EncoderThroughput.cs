using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MtlHost.Core.Encoders;
using MtlHost.Core.Encoders.Onnx;
using MtlHost.Core.Tokenization;
using MtlHost.Core.Training;
using Tensor = TorchSharp.torch.Tensor;
using static TorchSharp.torch;
using static MtlHost.Benchmarks.Rounds;

namespace MtlHost.Benchmarks;

/// <summary>
/// MiniLM on one full batch (16 × 128 tokens of real e-mail text): forward+backward throughput and
/// achieved GFLOP/s against a plain libtorch fp32 matmul measured in the same round, and forward-only
/// throughput against ONNX Runtime on the package's own model.onnx; every round shown, then where the step's time goes.
/// </summary>
public static class EncoderThroughput
{
    private const int Batch = 16;
    private const int Length = 128;

    /// <summary>Runs the benchmark and prints its figures.</summary>
    /// <param name="tokenizer">The shared tokenizer.</param>
    /// <param name="texts">Texts long enough to fill 128 tokens.</param>
    /// <param name="iterations">Timed iterations per measurement.</param>
    /// <param name="rounds">Rounds of every measurement; each ratio is taken within a round, then its median.</param>
    public static void Run(BertWordPieceTokenizer tokenizer, IReadOnlyList<string> texts, int iterations, int rounds)
    {
        var ids = new long[Batch * Length];
        for (var b = 0; b < Batch; b++)
        {
            var encoded = tokenizer.Encode(texts[b], Length);
            for (var t = 0; t < Length; t++)
            {
                ids[b * Length + t] = t < encoded.InputIds.Length ? encoded.InputIds[t] : tokenizer.PadId;
            }
        }

        var clock = Stopwatch.StartNew();
        using var model = MiniLmPackage.OpenModel();
        var modelBytes = ((MemoryStream)model).ToArray();
        using var encoder = OnnxBertImporter.Load(new MemoryStream(modelBytes));
        var importSeconds = clock.Elapsed.TotalSeconds;
        var config = encoder.Config;

        using var inputIds = tensor(ids, [Batch, Length]);
        using var typeIds = zeros(Batch, Length, ScalarType.Int64);
        using var mask = ones(Batch, Length, ScalarType.Int64);

        // Forward FLOPs of a BERT layer: Q, K, V and output projections (4 · 2BTH²), attention scores
        // and weighted sum (2 · 2BT²H), feed-forward (2 · 2BTHI). Backward costs about twice the forward.
        double tokens = Batch * Length;
        var perLayer = 8.0 * tokens * config.HiddenSize * config.HiddenSize + 4.0 * Batch * Length * Length * config.HiddenSize
                       + 4.0 * tokens * config.HiddenSize * config.IntermediateSize;
        var forwardFlops = perLayer * config.LayerCount;

        // The host's default (attention dropout 0: libtorch's fused attention) and BERT's (0.1: the materialised path).
        var defaultDropout = new TrainingOptions().AttentionDropout ?? 0;
        using var host = new BertEncoder(config with { AttentionDropout = defaultDropout });
        host.load_state_dict(encoder.state_dict());
        host.train();
        using var bert = new BertEncoder(config with { AttentionDropout = 0.1 });
        bert.load_state_dict(encoder.state_dict());
        bert.train();
        double TrainStep(BertEncoder model) => Measure(iterations, () =>
        {
            using var scope = NewDisposeScope();
            var hidden = model.forward(inputIds, typeIds, mask);
            hidden.mean().backward();
            model.zero_grad();
        });

        using var session = new InferenceSession(modelBytes);
        var inputs = new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(ids, [Batch, Length])),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(Enumerable.Repeat(1L, ids.Length).ToArray(), [Batch, Length])),
            NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(new long[ids.Length], [Batch, Length])),
        };

        // The ratios are taken within a round, every measurement of a round right after the others, so that the
        // machine's drift (a shared VM here: the matmul alone varies 140-190 GFLOP/s between runs) hits both sides.
        var trainFlops = 3 * forwardFlops;
        Console.WriteLine();
        Console.WriteLine($"MiniLM encoder ({config.LayerCount} layers, hidden {config.HiddenSize}), batch {Batch} x {Length} tokens, import {importSeconds:F2} s; " +
                          $"{rounds} rounds, each: {iterations} iterations (median) of every measurement, in this order:");
        Console.WriteLine($"  forward+backward at the host's defaults (attention dropout {defaultDropout}, hidden dropout {config.HiddenDropout}); the same with BERT's attention " +
                          "dropout 0.1; fp32 matmul 2048^3 and FFN-shaped; forward only, TorchSharp (eval) and ONNX Runtime " + OrtEnv.Instance().GetVersionString());
        var defaultRatios = new List<double>();
        var bertRatios = new List<double>();
        var ffnRatios = new List<double>();
        var forwardRatios = new List<double>();
        var defaultTimes = new List<double>();
        for (var round = 1; round <= rounds; round++)
        {
            host.train();
            var hostStep = TrainStep(host);
            var bertStep = TrainStep(bert);
            var matmul = MatmulGflops(2048, 2048, 2048, iterations * 4);
            var ffnMatmul = MatmulGflops((int)tokens, config.HiddenSize, config.IntermediateSize, iterations * 20);
            host.eval();
            var forward = Measure(iterations, () =>
            {
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                host.forward(inputIds, typeIds, mask);
            });
            var onnx = Measure(iterations, () =>
            {
                using var results = session.Run(inputs);
            });
            var hostGflops = trainFlops / hostStep / 1e9;
            var bertGflops = trainFlops / bertStep / 1e9;
            defaultRatios.Add(hostGflops / matmul);
            bertRatios.Add(bertGflops / matmul);
            ffnRatios.Add(hostGflops / ffnMatmul);
            forwardRatios.Add(forward / onnx);
            defaultTimes.Add(hostStep);
            Console.WriteLine($"  round {round}: default {1000 * hostStep:F0} ms {hostGflops:F1} GFLOP/s = {hostGflops / matmul:P0} of 2048^3 ({hostGflops / ffnMatmul:P0} of FFN-shaped); " +
                              $"BERT attention dropout {1000 * bertStep:F0} ms {bertGflops:F1} GFLOP/s = {bertGflops / matmul:P0}; matmul {matmul:F1}, FFN-shaped {ffnMatmul:F1} GFLOP/s; " +
                              $"forward {1000 * forward:F0} ms vs ONNX Runtime {1000 * onnx:F0} ms = {forward / onnx:F2}x");
        }
        Console.WriteLine($"  median over rounds: encoder step at the host's defaults {Median(defaultRatios):P0} of the 2048^3 matmul (target >= 80%), " +
                          $"{Median(ffnRatios):P0} of the FFN-shaped one; with BERT's attention dropout {Median(bertRatios):P0}; " +
                          $"TorchSharp / ONNX Runtime forward time {Median(forwardRatios):F2}x; default step {1000 * Median(defaultTimes):F0} ms, {tokens / Median(defaultTimes):F0} tokens/s");
        host.train();
        StepBreakdown(config, iterations, Median(defaultTimes), trainFlops);
    }

    /// <summary>
    /// Where the step's time goes: each operation of a layer, forward and backward at the layer's shapes on random
    /// inputs, its share of the step (times the layers) and, for those with matrix products, its GFLOP/s. One
    /// measurement each, after the rounds: an explanation of the ratio, not a figure of its own.
    /// </summary>
    private static void StepBreakdown(BertConfig config, int iterations, double step, double trainFlops)
    {
        var tokens = Batch * Length;
        int h = config.HiddenSize, inner = config.IntermediateSize, heads = config.HeadCount, d = config.HeadSize;
        using var scope = NewDisposeScope();
        var hidden = randn(tokens, h).requires_grad_();
        var expanded = randn(tokens, inner).requires_grad_();
        Tensor Weight(long rows, long columns) => (randn(rows, columns) * 0.02).requires_grad_();
        var qkv = Weight(3 * h, h);
        var output = Weight(h, h);
        var up = Weight(inner, h);
        var down = Weight(h, inner);
        var q = randn(Batch, heads, Length, d).requires_grad_();
        var k = randn(Batch, heads, Length, d).requires_grad_();
        var v = randn(Batch, heads, Length, d).requires_grad_();
        var attentionMask = zeros(Batch, 1, 1, Length);
        var norm = nn.LayerNorm(h);
        var dropout = new UniformMaskDropout(config.HiddenDropout);
        dropout.train();
        var words = nn.Embedding(config.VocabularySize, h);
        var ids = randint(0, config.VocabularySize, [Batch, Length]);
        double attention = 4.0 * Batch * Length * Length * h;
        var operations = new (string Name, int PerLayer, double Flops, Func<Tensor> Forward)[]
        {
            ("q, k, v projection [2048x384]x[384x1152]", 1, 2.0 * tokens * h * 3 * h, () => nn.functional.linear(hidden, qkv)),
            ("attention output projection", 1, 2.0 * tokens * h * h, () => nn.functional.linear(hidden, output)),
            ("FFN up [2048x384]x[384x1536]", 1, 2.0 * tokens * h * inner, () => nn.functional.linear(hidden, up)),
            ("FFN down [2048x1536]x[1536x384]", 1, 2.0 * tokens * h * inner, () => nn.functional.linear(expanded, down)),
            ("scaled dot-product attention (fused)", 1, attention, () => nn.functional.scaled_dot_product_attention(q, k, v, attn_mask: attentionMask)),
            ("GELU on [2048x1536]", 1, 0, () => nn.functional.gelu(expanded)),
            ($"dropout {config.HiddenDropout} on [2048x384]", 2, 0, () => dropout.call(hidden)),
            ("LayerNorm on [2048x384]", 2, 0, () => norm.call(hidden)),
            ("residual add on [2048x384]", 2, 0, () => hidden + hidden),
        };
        Console.WriteLine();
        Console.WriteLine($"where the default step's {1000 * step:F0} ms go (each operation forward+backward alone, at one layer's shapes, x {config.LayerCount} layers; " +
                          $"the step's FLOPs at the matmul's rate would take {1000 * trainFlops / MatmulGflops(2048, 2048, 2048, iterations * 4) / 1e9:F0} ms):");
        var total = 0.0;
        foreach (var (name, perLayer, flops, forward) in operations)
        {
            var seconds = ForwardBackward(iterations, forward) * perLayer * config.LayerCount;
            total += seconds;
            var rate = flops > 0 ? $"{3 * flops * perLayer * config.LayerCount / seconds / 1e9,6:F1} GFLOP/s" : "  (no matmul FLOPs)";
            Console.WriteLine($"  {name,-42} {perLayer} x {config.LayerCount}: {1000 * seconds,6:F1} ms {100 * seconds / step,5:F1}%  {rate}");
        }
        var embedding = ForwardBackward(iterations, () => words.call(ids)) + ForwardBackward(iterations, () => dropout.call(hidden));
        total += embedding;
        Console.WriteLine($"  {"embeddings (word-gradient 30522x384) + dropout",-42} once: {1000 * embedding,6:F1} ms {100 * embedding / step,5:F1}%");
        Console.WriteLine($"  {"sum",-42}        {1000 * total,6:F1} ms {100 * total / step,5:F1}% of the measured step (the rest: views, masks, the loss, zeroing the gradients)");
        var dropouts = 2 * config.LayerCount + 1;
        var libtorchDropout = ForwardBackward(iterations, () => nn.functional.dropout(hidden, config.HiddenDropout, true)) * dropouts;
        var p = config.HiddenDropout;
        var randMaskDropout = ForwardBackward(iterations, () => hidden.mul(rand_like(hidden).ge_(p).mul_(1 / (1 - p)))) * dropouts;
        Console.WriteLine($"  (the same {dropouts} dropouts with libtorch's own dropout, which the encoder used first, would take {1000 * libtorchDropout:F1} ms; " +
                          $"with a mask from rand, as UniformMaskDropout drew it before its counter-based mask, {1000 * randMaskDropout:F1} ms)");
    }

    // Forward, then backward from the sum; the inputs' gradients accumulate as a parameter's would.
    private static double ForwardBackward(int iterations, Func<Tensor> forward) => Measure(iterations, () =>
    {
        using var scope = NewDisposeScope();
        forward().sum().backward();
    });

    private static double MatmulGflops(int m, int k, int n, int iterations)
    {
        using var a = randn(m, k);
        using var b = randn(k, n);
        var seconds = Measure(iterations, () =>
        {
            using var c = a.matmul(b);
        });
        return 2.0 * m * k * n / seconds / 1e9;
    }

    private static double Measure(int iterations, Action action)
    {
        for (var i = 0; i < Math.Max(2, iterations / 5); i++)
        {
            action();
        }
        var times = new double[iterations];
        for (var i = 0; i < iterations; i++)
        {
            var clock = Stopwatch.StartNew();
            action();
            times[i] = clock.Elapsed.TotalSeconds;
        }
        Array.Sort(times);
        return times[iterations / 2];
    }
}
