using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MtlHost.Core.Encoders;
using MtlHost.Core.Encoders.Onnx;
using MtlHost.Core.Tokenization;
using static TorchSharp.torch;

namespace MtlHost.Benchmarks;

/// <summary>
/// MiniLM on one full batch (16 × 128 tokens of real e-mail text): forward+backward throughput and
/// achieved GFLOP/s against a plain libtorch fp32 matmul measured in the same run, and forward-only
/// throughput against ONNX Runtime on the package's own model.onnx.
/// </summary>
public static class EncoderThroughput
{
    private const int Batch = 16;
    private const int Length = 128;

    /// <summary>Runs the benchmark and prints its figures.</summary>
    /// <param name="tokenizer">The shared tokenizer.</param>
    /// <param name="texts">Texts long enough to fill 128 tokens.</param>
    /// <param name="iterations">Timed iterations per measurement.</param>
    public static void Run(BertWordPieceTokenizer tokenizer, IReadOnlyList<string> texts, int iterations)
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

        encoder.train();
        var trainStep = Measure(iterations, () =>
        {
            using var scope = NewDisposeScope();
            var hidden = encoder.forward(inputIds, typeIds, mask);
            hidden.mean().backward();
            encoder.zero_grad();
        });

        // Attention-probability dropout forces libtorch's CPU attention off its fused kernel onto the
        // materialised path; this measures what that costs.
        using var noAttentionDropout = new BertEncoder(config with { AttentionDropout = 0 });
        noAttentionDropout.load_state_dict(encoder.state_dict());
        noAttentionDropout.train();
        var trainStepNoAttentionDropout = Measure(iterations, () =>
        {
            using var scope = NewDisposeScope();
            var hidden = noAttentionDropout.forward(inputIds, typeIds, mask);
            hidden.mean().backward();
            noAttentionDropout.zero_grad();
        });

        encoder.eval();
        var forward = Measure(iterations, () =>
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            encoder.forward(inputIds, typeIds, mask);
        });

        var matmul = MatmulGflops(2048, 2048, 2048, iterations * 4);
        var ffnMatmul = MatmulGflops((int)tokens, config.HiddenSize, config.IntermediateSize, iterations * 20);

        using var session = new InferenceSession(modelBytes);
        var inputs = new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(ids, [Batch, Length])),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(Enumerable.Repeat(1L, ids.Length).ToArray(), [Batch, Length])),
            NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(new long[ids.Length], [Batch, Length])),
        };
        var onnx = Measure(iterations, () =>
        {
            using var results = session.Run(inputs);
        });

        var trainGflops = 3 * forwardFlops / trainStep / 1e9;
        Console.WriteLine();
        Console.WriteLine($"MiniLM encoder ({config.LayerCount} layers, hidden {config.HiddenSize}), batch {Batch} x {Length} tokens, {iterations} iterations (median):");
        Console.WriteLine($"  import from the package's model.onnx: {importSeconds:F2} s");
        Console.WriteLine($"  forward+backward (train mode): {1000 * trainStep:F0} ms  {tokens / trainStep:F0} tokens/s  {trainGflops:F1} GFLOP/s");
        var noDropoutGflops = 3 * forwardFlops / trainStepNoAttentionDropout / 1e9;
        Console.WriteLine($"  same, attention dropout 0 (hidden dropout kept): {1000 * trainStepNoAttentionDropout:F0} ms  {tokens / trainStepNoAttentionDropout:F0} tokens/s  {noDropoutGflops:F1} GFLOP/s");
        Console.WriteLine($"  libtorch fp32 matmul 2048^3:                      {matmul:F1} GFLOP/s");
        Console.WriteLine($"  libtorch fp32 matmul [{tokens}x{config.HiddenSize}]x[{config.HiddenSize}x{config.IntermediateSize}] (the FFN's shape): {ffnMatmul:F1} GFLOP/s");
        Console.WriteLine($"  encoder step / matmul: {trainGflops / matmul:P0} of 2048^3, {trainGflops / ffnMatmul:P0} of the FFN-shaped matmul (target >= 80%)");
        Console.WriteLine($"  without attention dropout: {noDropoutGflops / matmul:P0} of 2048^3, {noDropoutGflops / ffnMatmul:P0} of the FFN-shaped matmul");
        Console.WriteLine($"  forward only, TorchSharp (eval): {1000 * forward:F0} ms  {tokens / forward:F0} tokens/s");
        Console.WriteLine($"  forward only, ONNX Runtime {OrtEnv.Instance().GetVersionString()}: {1000 * onnx:F0} ms  {tokens / onnx:F0} tokens/s");
        Console.WriteLine($"  TorchSharp / ONNX Runtime forward time: {forward / onnx:F2}x");
    }

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
