using System.Diagnostics;
using System.Globalization;
using MtlHost.Core.Encoders;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static MtlHost.Benchmarks.Rounds;

namespace MtlHost.Benchmarks;

/// <summary>
/// The host's TorchSharp stack against PyTorch on the same MiniLM-shaped training step (<c>pytorch_peer.py</c> beside this
/// file): the host's <see cref="BertEncoder"/> with random weights, [CLS] → dropout → linear → cross-entropy, backward, clip
/// to norm 1.0, AdamW, on one fixed batch of 16 × 128 tokens, both sides with the same number of threads. The Python
/// process stays alive and runs a round each time it is asked, so rounds alternate TorchSharp, PyTorch, TorchSharp, …
/// in the same session, and only one side computes at a time.
/// </summary>
public static class PeerBenchmark
{
    private const int Batch = 16;
    private const int Length = 128;

    /// <summary>Runs the benchmark and prints every round and the median of the per-round ratios.</summary>
    /// <param name="python">The Python interpreter with torch (Debian's <c>/usr/bin/python3</c> with python3-torch).</param>
    /// <param name="script">Path of <c>pytorch_peer.py</c>.</param>
    /// <param name="threads">Threads on both sides.</param>
    /// <param name="steps">Timed steps per round.</param>
    /// <param name="rounds">Rounds per side.</param>
    /// <param name="warmup">Untimed steps before the first round, on each side.</param>
    /// <param name="attentionDropout">Dropout on attention probabilities (BERT's is 0.1; the host's default is 0).</param>
    /// <returns>0, or 1 when the Python side failed.</returns>
    public static int Run(string python, string script, int threads, int steps, int rounds, int warmup, double attentionDropout)
    {
        var start = new ProcessStartInfo(python,
        [
            script, "--serve", "--threads", Text(threads), "--steps", Text(steps), "--warmup", Text(warmup),
            "--batch", Text(Batch), "--length", Text(Length), "--attention-dropout", attentionDropout.ToString(CultureInfo.InvariantCulture),
        ])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        // The same thread count on both sides, however the environment sets OpenMP.
        start.Environment["OMP_NUM_THREADS"] = Text(threads);
        using var peer = Process.Start(start)!;
        Console.WriteLine();
        Console.WriteLine($"MiniLM-shaped training step, batch {Batch} x {Length}, attention dropout {attentionDropout}, {threads} threads on both sides, " +
                          $"{steps} steps per round, {rounds} rounds alternating TorchSharp and PyTorch ({python} {Path.GetFileName(script)}):");
        string? line;
        while ((line = peer.StandardOutput.ReadLine()) is not null && line != "ready")
        {
            Console.WriteLine($"  {line}");
        }
        if (line is null)
        {
            Console.WriteLine($"  the PyTorch side ended before it was ready (exit {WaitExit(peer)}); is torch installed for {python}?");
            return 1;
        }

        using var step = new TorchSharpStep(attentionDropout);
        Console.WriteLine($"  torchsharp {typeof(TorchSharp.torch).Assembly.GetName().Version}, libtorch {__version__}, threads {get_num_threads()}");
        for (var i = 0; i < warmup; i++)
        {
            step.Run();
        }

        var ratios = new List<double>();
        var sharp = new List<double>();
        var torch = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            // A pause before each side: OpenMP threads of the side that just ran spin a while before they sleep.
            Thread.Sleep(500);
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < steps; i++)
            {
                step.Run();
            }
            sharp.Add(clock.Elapsed.TotalMilliseconds / steps);
            Thread.Sleep(500);
            peer.StandardInput.WriteLine("round");
            peer.StandardInput.Flush();
            var answer = peer.StandardOutput.ReadLine();
            if (answer is null || !answer.StartsWith("round ", StringComparison.Ordinal))
            {
                Console.WriteLine($"  the PyTorch side did not answer a round ({answer ?? "end of output"})");
                return 1;
            }
            torch.Add(double.Parse(answer.Split(' ')[1], CultureInfo.InvariantCulture));
            ratios.Add(sharp[^1] / torch[^1]);
            Console.WriteLine($"  round {round + 1}: TorchSharp {sharp[^1],8:F1} ms/step   PyTorch {torch[^1],8:F1} ms/step   TorchSharp/PyTorch {ratios[^1]:F3}x");
        }
        peer.StandardInput.WriteLine("quit");
        peer.StandardInput.Flush();
        WaitExit(peer);
        Console.WriteLine($"  median: TorchSharp {Median(sharp):F1} ms/step, PyTorch {Median(torch):F1} ms/step; " +
                          $"TorchSharp/PyTorch time, median of the per-round ratios: {Median(ratios):F3}x (below 1: TorchSharp faster)");
        return 0;
    }

    private static int WaitExit(Process process)
    {
        if (!process.WaitForExit(TimeSpan.FromSeconds(30)))
        {
            process.Kill();
        }
        return process.ExitCode;
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>The bare TorchSharp step: the host's encoder, a head, AdamW; nothing else of the host.</summary>
    private sealed class TorchSharpStep : IDisposable
    {
        private readonly BertEncoder _encoder;
        private readonly Linear _head;
        private readonly Dropout _dropout;
        private readonly AdamW _optimizer;
        private readonly List<Parameter> _parameters;
        private readonly Tensor _ids;
        private readonly Tensor _types;
        private readonly Tensor _mask;
        private readonly Tensor _labels;

        public TorchSharpStep(double attentionDropout)
        {
            _encoder = EncoderCatalog.Create("minilm-random", 42, attentionDropout);
            _head = nn.Linear(_encoder.HiddenSize, 2);
            _dropout = nn.Dropout(_encoder.Config.HiddenDropout);
            // Only what the loss reaches (the Python model has no pooler), as AdamW over a parameter without a gradient does nothing.
            _parameters = _encoder.named_parameters().Where(p => !p.name.StartsWith("pooler", StringComparison.Ordinal)).Select(p => p.parameter)
                .Concat(_head.parameters()).ToList();
            _optimizer = optim.AdamW(_parameters, 5e-5, weight_decay: 0.01);
            var generator = new Random(42);
            var ids = new long[Batch * Length];
            for (var i = 0; i < ids.Length; i++)
            {
                ids[i] = i % Length == 0 ? 101 : generator.Next(1000, 30522);
            }
            _ids = tensor(ids, [Batch, Length]);
            _types = zeros(Batch, Length, ScalarType.Int64);
            _mask = ones(Batch, Length, ScalarType.Int64);
            _labels = tensor(Enumerable.Range(0, Batch).Select(i => (long)(i % 2)).ToArray());
            _encoder.train();
            _head.train();
            _dropout.train();
        }

        public void Run()
        {
            using var scope = NewDisposeScope();
            _optimizer.zero_grad();
            var hidden = _encoder.forward(_ids, _types, _mask);
            var loss = nn.functional.cross_entropy(_head.forward(_dropout.forward(hidden.select(1, 0))), _labels);
            loss.backward();
            nn.utils.clip_grad_norm_(_parameters, 1.0);
            _optimizer.step();
        }

        public void Dispose()
        {
            _optimizer.Dispose();
            _head.Dispose();
            _encoder.Dispose();
            _ids.Dispose();
            _types.Dispose();
            _mask.Dispose();
            _labels.Dispose();
        }
    }
}
