using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MtlHost.Core.Encoders;

/// <summary>
/// BERT's input layer: word + position + token type embeddings, then LayerNorm and dropout.
/// </summary>
/// <remarks>Parameter names follow Hugging Face's <c>BertEmbeddings</c>.</remarks>
public sealed class BertEmbeddings : Module<Tensor, Tensor, Tensor>
{
    private readonly Embedding word_embeddings;
    private readonly Embedding position_embeddings;
    private readonly Embedding token_type_embeddings;
    private readonly LayerNorm LayerNorm;
    private readonly UniformMaskDropout dropout;
    private readonly int maxPositions;

    /// <summary>
    /// Creates the embedding layer for <paramref name="config"/>.
    /// </summary>
    /// <param name="config">The encoder shape.</param>
    public BertEmbeddings(BertConfig config) : base(nameof(BertEmbeddings))
    {
        word_embeddings = Embedding(config.VocabularySize, config.HiddenSize, padding_idx: config.PadTokenId);
        position_embeddings = Embedding(config.MaxPositions, config.HiddenSize);
        token_type_embeddings = Embedding(config.TypeVocabularySize, config.HiddenSize);
        LayerNorm = nn.LayerNorm(config.HiddenSize, config.LayerNormEpsilon);
        dropout = new UniformMaskDropout(config.HiddenDropout);
        maxPositions = config.MaxPositions;
        RegisterComponents();
    }

    /// <summary>
    /// Embeds a batch of token ids.
    /// </summary>
    /// <param name="inputIds">Token ids, [B, T], int64.</param>
    /// <param name="tokenTypeIds">Segment ids, [B, T], int64.</param>
    /// <returns>Embeddings, [B, T, H].</returns>
    public override Tensor forward(Tensor inputIds, Tensor tokenTypeIds)
    {
        var length = inputIds.shape[1];
        if (length > maxPositions)
        {
            throw new ArgumentException(
                $"The sequence has {length} tokens but the encoder has position embeddings for {maxPositions}; " +
                "truncate the input to at most that many tokens.",
                nameof(inputIds));
        }

        using var scope = NewDisposeScope();
        var positions = arange(length, dtype: ScalarType.Int64, device: inputIds.device).unsqueeze(0);
        var embeddings = word_embeddings.call(inputIds)
            + position_embeddings.call(positions)
            + token_type_embeddings.call(tokenTypeIds);
        return dropout.call(LayerNorm.call(embeddings)).MoveToOuterDisposeScope();
    }
}
