namespace MtlHost.Core.Encoders;

/// <summary>
/// The shape of a BERT encoder: vocabulary, width, depth, heads and regularisation.
/// </summary>
/// <remarks>
/// The constructor validates; a copy made with a <c>with</c> expression is validated again by
/// <see cref="BertEncoder"/> (or by calling <see cref="Validate"/>).
/// </remarks>
public sealed record BertConfig
{
    /// <summary>
    /// Creates and validates a configuration.
    /// </summary>
    /// <param name="vocabularySize">Number of WordPiece ids.</param>
    /// <param name="hiddenSize">Width of the hidden states.</param>
    /// <param name="layerCount">Number of transformer layers.</param>
    /// <param name="headCount">Number of attention heads; must divide <paramref name="hiddenSize"/>.</param>
    /// <param name="intermediateSize">Width of the feed-forward inner layer.</param>
    /// <param name="maxPositions">Longest sequence the position embeddings cover.</param>
    /// <param name="typeVocabularySize">Number of token type (segment) ids.</param>
    /// <param name="layerNormEpsilon">Epsilon of every LayerNorm.</param>
    /// <param name="hiddenDropout">Dropout probability on embeddings and hidden outputs.</param>
    /// <param name="attentionDropout">Dropout probability on attention probabilities.</param>
    /// <exception cref="ArgumentException">A value is out of range.</exception>
    public BertConfig(
        int vocabularySize,
        int hiddenSize,
        int layerCount,
        int headCount,
        int intermediateSize,
        int maxPositions,
        int typeVocabularySize,
        double layerNormEpsilon,
        double hiddenDropout,
        double attentionDropout)
    {
        VocabularySize = vocabularySize;
        HiddenSize = hiddenSize;
        LayerCount = layerCount;
        HeadCount = headCount;
        IntermediateSize = intermediateSize;
        MaxPositions = maxPositions;
        TypeVocabularySize = typeVocabularySize;
        LayerNormEpsilon = layerNormEpsilon;
        HiddenDropout = hiddenDropout;
        AttentionDropout = attentionDropout;
        Validate();
    }

    /// <summary>A small randomly initialised encoder for fast tests (BERT vocabulary, 64 wide, 2 layers).</summary>
    public static BertConfig Tiny { get; } = new(30522, 64, 2, 2, 256, 512, 2, 1e-12, 0.1, 0.1);

    /// <summary>The shape of sentence-transformers/all-MiniLM-L6-v2 (384 wide, 6 layers, 12 heads).</summary>
    public static BertConfig MiniLmL6 { get; } = new(30522, 384, 6, 12, 1536, 512, 2, 1e-12, 0.1, 0.1);

    /// <summary>Number of WordPiece ids.</summary>
    public int VocabularySize { get; init; }

    /// <summary>Width of the hidden states.</summary>
    public int HiddenSize { get; init; }

    /// <summary>Number of transformer layers.</summary>
    public int LayerCount { get; init; }

    /// <summary>Number of attention heads.</summary>
    public int HeadCount { get; init; }

    /// <summary>Width of the feed-forward inner layer.</summary>
    public int IntermediateSize { get; init; }

    /// <summary>Longest sequence the position embeddings cover.</summary>
    public int MaxPositions { get; init; }

    /// <summary>Number of token type (segment) ids.</summary>
    public int TypeVocabularySize { get; init; }

    /// <summary>Epsilon of every LayerNorm.</summary>
    public double LayerNormEpsilon { get; init; }

    /// <summary>Dropout probability on embeddings and on the output of each sublayer.</summary>
    public double HiddenDropout { get; init; }

    /// <summary>Dropout probability on attention probabilities.</summary>
    public double AttentionDropout { get; init; }

    /// <summary>
    /// Id of the padding token. Its embedding row starts at zero and receives no gradient, as in BERT.
    /// </summary>
    public int PadTokenId { get; init; }

    /// <summary>Width of one attention head (<see cref="HiddenSize"/> / <see cref="HeadCount"/>).</summary>
    public int HeadSize => HiddenSize / HeadCount;

    /// <summary>
    /// Checks every value and their relations.
    /// </summary>
    /// <exception cref="ArgumentException">A value is out of range; the message names it.</exception>
    public void Validate()
    {
        RequirePositive(VocabularySize, nameof(VocabularySize));
        RequirePositive(HiddenSize, nameof(HiddenSize));
        RequirePositive(LayerCount, nameof(LayerCount));
        RequirePositive(HeadCount, nameof(HeadCount));
        RequirePositive(IntermediateSize, nameof(IntermediateSize));
        RequirePositive(MaxPositions, nameof(MaxPositions));
        RequirePositive(TypeVocabularySize, nameof(TypeVocabularySize));

        if (HiddenSize % HeadCount != 0)
        {
            throw new ArgumentException(
                $"BertConfig.HiddenSize ({HiddenSize}) must be divisible by HeadCount ({HeadCount}); " +
                $"choose a head count that divides the hidden size.",
                nameof(HeadCount));
        }

        if (!(LayerNormEpsilon > 0) || double.IsInfinity(LayerNormEpsilon))
        {
            throw new ArgumentException(
                $"BertConfig.LayerNormEpsilon must be a positive finite number, but was {LayerNormEpsilon}.",
                nameof(LayerNormEpsilon));
        }

        RequireProbability(HiddenDropout, nameof(HiddenDropout));
        RequireProbability(AttentionDropout, nameof(AttentionDropout));

        if (PadTokenId < 0 || PadTokenId >= VocabularySize)
        {
            throw new ArgumentException(
                $"BertConfig.PadTokenId ({PadTokenId}) must be a vocabulary id in [0, {VocabularySize}).",
                nameof(PadTokenId));
        }
    }

    private static void RequirePositive(int value, string name)
    {
        if (value <= 0)
        {
            throw new ArgumentException($"BertConfig.{name} must be positive, but was {value}.", name);
        }
    }

    private static void RequireProbability(double value, string name)
    {
        // Dropout of exactly 1 would zero every activation; the negated test also rejects NaN.
        if (!(value >= 0 && value < 1))
        {
            throw new ArgumentException($"BertConfig.{name} must be in [0, 1), but was {value}.", name);
        }
    }
}
