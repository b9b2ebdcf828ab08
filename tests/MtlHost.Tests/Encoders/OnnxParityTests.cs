using MtlHost.Core.Encoders;
using MtlHost.Core.Encoders.Onnx;
using Microsoft.ML.OnnxRuntime;
using Shouldly;
using Xunit;
using static TorchSharp.torch;
using ReferenceTokenizer = FastBertTokenizer.BertTokenizer;

namespace MtlHost.Tests.Encoders;

/// <summary>
/// The TorchSharp encoder with weights imported from all-MiniLM-L6-v2's ONNX file gives the same hidden
/// states as ONNX Runtime running that file.
/// </summary>
public sealed class OnnxParityTests : IClassFixture<OnnxParityTests.MiniLm>
{
    private const int MaxTokens = 128;
    private const float MaxAbsTolerance = 1e-4f;
    private const double MinCosine = 0.99999;

    private static readonly string LongText = string.Join(' ', Enumerable.Repeat(
        "The quick brown fox, having jumped over 3 lazy dogs in 2024, wrote a résumé about naïve coöperation.", 12));

    private readonly MiniLm miniLm;

    /// <summary>Receives the shared model pair.</summary>
    /// <param name="miniLm">ONNX Runtime session, imported encoder and tokenizer.</param>
    public OnnxParityTests(MiniLm miniLm) => this.miniLm = miniLm;

    private static readonly string[] Texts =
    [
        "Hello, world!",
        "Wait... what?! (Really?) Yes -- \"quoted\" & 'single'; semi: colon.",
        "Café naïve résumé Zürich São Paulo Ångström façade",
        "In 2023, 42 people paid $3.50 each (total: 147.00) at 10:30 on 1/2/2024.",
        "東京 is in Japan 🙂 and ÉCOLE is uppercase",
        "a",
    ];

    /// <summary>Sentences covering punctuation, accents, numbers, unknown characters and casing.</summary>
    public static TheoryData<string> Sentences => new(Texts);

    [Theory]
    [MemberData(nameof(Sentences))]
    public void A_single_sentence_matches_onnx_runtime(string sentence)
    {
        AssertParity([sentence]);
    }

    [Fact]
    public void A_padded_batch_matches_onnx_runtime_on_real_tokens()
    {
        string[] batch = [.. Texts, LongText];

        var (_, mask, _) = miniLm.Encode(batch);

        mask.Min().ShouldBe(0L, "the batch must contain padding");
        AssertParity(batch);
    }

    [Fact]
    public void A_long_text_is_truncated_to_128_tokens_and_matches_onnx_runtime()
    {
        var (ids, _, shape) = miniLm.Encode([LongText]);

        shape[1].ShouldBe(MaxTokens);
        ids[MaxTokens - 1].ShouldBe(102L, "truncation keeps the final [SEP]");
        AssertParity([LongText]);
    }

    [Fact]
    public void The_pooler_matches_onnx_runtime()
    {
        using var scope = NewDisposeScope();
        var (ids, mask, shape) = miniLm.Encode(Texts);

        var expected = miniLm.RunOnnx(ids, mask, shape, miniLm.Session.OutputMetadata.Keys.ElementAt(1));
        var hidden = miniLm.RunTorch(ids, mask, shape);
        var pooled = miniLm.Encoder.Pool(hidden);

        MaxAbsDifference(pooled, tensor(expected, [shape[0], 384])).ShouldBeLessThanOrEqualTo(MaxAbsTolerance);
    }

    [Fact]
    public void The_import_infers_the_minilm_config_and_loads_every_parameter()
    {
        var report = miniLm.Report;

        report.Config.ShouldBe(BertConfig.MiniLmL6);
        report.LoadedParameters.ShouldBe(miniLm.Encoder.named_parameters().Select(p => p.name), ignoreOrder: true);
        report.Sources["encoder.layer.3.attention.self.query.weight"].ShouldContain("transposed");
        report.Sources["pooler.dense.weight"].ShouldBe("pooler.dense.weight (Gemm transB=1 [out, in])");
        report.Sources["embeddings.word_embeddings.weight"].ShouldBe("embeddings.word_embeddings.weight (by name)");
        report.IgnoredInitializers.ShouldContain("embeddings.position_ids");
    }

    private void AssertParity(string[] sentences)
    {
        using var scope = NewDisposeScope();
        var (ids, mask, shape) = miniLm.Encode(sentences);

        var expected = tensor(miniLm.RunOnnx(ids, mask, shape, "last_hidden_state"), [shape[0], shape[1], 384]);
        var actual = miniLm.RunTorch(ids, mask, shape);

        var real = tensor(mask, [shape[0], shape[1]]).to_type(ScalarType.Bool);
        var realPositions = real.unsqueeze(-1).expand_as(actual);
        MaxAbsDifference(actual.masked_select(realPositions), expected.masked_select(realPositions))
            .ShouldBeLessThanOrEqualTo(MaxAbsTolerance);

        var cosine = nn.functional.cosine_similarity(MeanPool(actual, real), MeanPool(expected, real), dim: 1);
        cosine.min().item<float>().ShouldBeGreaterThanOrEqualTo((float)MinCosine);
    }

    private static Tensor MeanPool(Tensor hidden, Tensor real)
    {
        var weights = real.unsqueeze(-1).to_type(hidden.dtype);
        return (hidden * weights).sum(1) / weights.sum(1);
    }

    private static float MaxAbsDifference(Tensor a, Tensor b) => (a - b).abs().max().item<float>();

    /// <summary>
    /// ONNX Runtime session, imported encoder (eval mode) and tokenizer for all-MiniLM-L6-v2, shared by the tests.
    /// </summary>
    public sealed class MiniLm : IDisposable
    {
        private readonly ReferenceTokenizer tokenizer = new();

        /// <summary>Loads the model twice (ONNX Runtime and TorchSharp) and the vocabulary.</summary>
        public MiniLm()
        {
            using (var model = MiniLmPackage.OpenModel())
            using (var copy = new MemoryStream())
            {
                model.CopyTo(copy);
                Session = new InferenceSession(copy.ToArray());
                copy.Position = 0;
                Encoder = OnnxBertImporter.Load(copy, out var report);
                Report = report;
            }

            Encoder.eval();
            using var vocabulary = new StreamReader(MiniLmPackage.OpenVocabulary());
            tokenizer.LoadVocabulary(vocabulary, convertInputToLowercase: true);
        }

        /// <summary>The reference runtime.</summary>
        public InferenceSession Session { get; }

        /// <summary>The imported encoder, in eval mode.</summary>
        public BertEncoder Encoder { get; }

        /// <summary>The importer's report.</summary>
        public OnnxImportReport Report { get; }

        /// <summary>Tokenizes and pads a batch to its longest sentence (at most 128 tokens).</summary>
        /// <param name="sentences">The texts.</param>
        /// <returns>Row-major ids and mask, and the [B, T] shape.</returns>
        public (long[] Ids, long[] Mask, long[] Shape) Encode(string[] sentences)
        {
            var encoded = sentences.Select(s => tokenizer.Encode(s, MaxTokens)).ToList();
            var length = encoded.Max(e => e.AttentionMask.Span.IndexOf(0L) is var i and >= 0 ? i : e.AttentionMask.Length);
            var ids = new long[sentences.Length * length];
            var mask = new long[sentences.Length * length];
            for (var b = 0; b < sentences.Length; b++)
            {
                var real = encoded[b].AttentionMask.Span.IndexOf(0L) is var i and >= 0 ? i : encoded[b].AttentionMask.Length;
                encoded[b].InputIds.Span[..real].CopyTo(ids.AsSpan(b * length));
                mask.AsSpan(b * length, real).Fill(1L);
            }

            return (ids, mask, [sentences.Length, length]);
        }

        /// <summary>Runs ONNX Runtime and returns one output, row-major.</summary>
        /// <param name="ids">Token ids.</param>
        /// <param name="mask">Attention mask.</param>
        /// <param name="shape">[B, T].</param>
        /// <param name="output">Name of the output to return.</param>
        /// <returns>The output's values.</returns>
        public float[] RunOnnx(long[] ids, long[] mask, long[] shape, string output)
        {
            var inputs = new Dictionary<string, OrtValue>
            {
                ["input_ids"] = OrtValue.CreateTensorValueFromMemory(ids, shape),
                ["attention_mask"] = OrtValue.CreateTensorValueFromMemory(mask, shape),
                ["token_type_ids"] = OrtValue.CreateTensorValueFromMemory(new long[ids.Length], shape),
            };
            try
            {
                using var options = new RunOptions();
                using var results = Session.Run(options, inputs, [output]);
                return results[0].GetTensorDataAsSpan<float>().ToArray();
            }
            finally
            {
                foreach (var value in inputs.Values)
                {
                    value.Dispose();
                }
            }
        }

        /// <summary>Runs the imported encoder without gradients.</summary>
        /// <param name="ids">Token ids.</param>
        /// <param name="mask">Attention mask.</param>
        /// <param name="shape">[B, T].</param>
        /// <returns>Last hidden states, [B, T, 384].</returns>
        public Tensor RunTorch(long[] ids, long[] mask, long[] shape)
        {
            using var noGrad = no_grad();
            var inputIds = tensor(ids, shape);
            return Encoder.call(inputIds, zeros_like(inputIds), tensor(mask, shape));
        }

        /// <inheritdoc/>
        public void Dispose()
        {
            Session.Dispose();
            Encoder.Dispose();
        }
    }
}
