using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MtlHost.Core.Encoders;

/// <summary>
/// The shared BERT encoder: token ids in, last hidden states out.
/// </summary>
/// <remarks>
/// <para>
/// Post-LayerNorm BERT with exact GELU and BERT's dropout placement. Parameter names equal Hugging Face's
/// <c>BertModel</c> state-dict names (<c>embeddings.word_embeddings.weight</c>,
/// <c>encoder.layer.0.attention.self.query.weight</c>, …, <c>pooler.dense.bias</c>), so pretrained weights
/// load by name.
/// </para>
/// <para>
/// A new encoder is initialised as BERT is (weights ~ N(0, 0.02), biases 0, LayerNorm 1 and 0, padding
/// embedding 0); the result depends only on the <c>torch.manual_seed</c> in effect.
/// </para>
/// </remarks>
public sealed class BertEncoder : Module<Tensor, Tensor, Tensor, Tensor>
{
    private const double InitializerRange = 0.02;

    private readonly BertEmbeddings embeddings;
    private readonly BertLayerStack encoder;
    private readonly BertPooler pooler;

    /// <summary>
    /// Creates a randomly initialised encoder.
    /// </summary>
    /// <param name="config">The encoder shape.</param>
    /// <exception cref="ArgumentException"><paramref name="config"/> is invalid.</exception>
    public BertEncoder(BertConfig config) : base(nameof(BertEncoder))
    {
        ArgumentNullException.ThrowIfNull(config);

        // A config changed with a 'with' expression has not been through the constructor's checks.
        config.Validate();
        Config = config;

        embeddings = new BertEmbeddings(config);
        encoder = new BertLayerStack(config);
        pooler = new BertPooler(config);
        RegisterComponents();
        InitializeWeights();
    }

    /// <summary>The shape this encoder was built with.</summary>
    public BertConfig Config { get; }

    /// <summary>Width of the hidden states the encoder returns.</summary>
    public int HiddenSize => Config.HiddenSize;

    /// <summary>The transformer layers, bottom (closest to the embeddings) first.</summary>
    public IReadOnlyList<BertLayer> Layers => encoder.Layers;

    /// <summary>
    /// Encodes a padded batch.
    /// </summary>
    /// <param name="inputIds">Token ids, [B, T], int64.</param>
    /// <param name="tokenTypeIds">Segment ids, [B, T], int64 (all zeros for single sentences).</param>
    /// <param name="attentionMask">[B, T], 1 (or true) for real tokens and 0 (or false) for padding; int64 or bool.</param>
    /// <returns>The last layer's hidden states, [B, T, H]. Values at padding positions are meaningless.</returns>
    /// <exception cref="ArgumentException">The inputs do not have matching [B, T] shapes or integer ids.</exception>
    public override Tensor forward(Tensor inputIds, Tensor tokenTypeIds, Tensor attentionMask)
    {
        CheckInputs(inputIds, tokenTypeIds, attentionMask);

        using var scope = NewDisposeScope();
        var x = embeddings.call(inputIds, tokenTypeIds);
        var mask = ExtendedAttentionMask(attentionMask, x.dtype);
        return encoder.call(x, mask).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The embedding layer alone: the first half of <see cref="Module{T1, T2, T3, TResult}.forward"/>, for
    /// callers that run the layers themselves (per-task top layers, adapters).
    /// </summary>
    /// <param name="inputIds">Token ids, [B, T], int64.</param>
    /// <param name="tokenTypeIds">Segment ids, [B, T], int64.</param>
    /// <returns>Embeddings, [B, T, H].</returns>
    /// <remarks>Call <see cref="CheckInputs"/> first to get forward's messages for malformed inputs.</remarks>
    public Tensor Embed(Tensor inputIds, Tensor tokenTypeIds) => embeddings.call(inputIds, tokenTypeIds);

    /// <summary>
    /// Runs layers <paramref name="first"/> to <paramref name="first"/> + <paramref name="count"/> − 1 in turn.
    /// </summary>
    /// <param name="hidden">Input of layer <paramref name="first"/> (the embeddings when it is 0), [B, T, H].</param>
    /// <param name="additiveMask">From <see cref="ExtendedAttentionMask"/>.</param>
    /// <param name="first">Index of the first layer to run.</param>
    /// <param name="count">How many layers to run; 0 returns a new handle to <paramref name="hidden"/>.</param>
    /// <returns>The output of the last layer run, [B, T, H].</returns>
    /// <exception cref="ArgumentOutOfRangeException">The range is not within the encoder's layers.</exception>
    public Tensor RunLayers(Tensor hidden, Tensor additiveMask, int first, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(first);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(first + count, Config.LayerCount, nameof(count));

        using var scope = NewDisposeScope();
        // alias() so that the caller owns (and may dispose) what it gets back even when no layer ran.
        var x = hidden.alias();
        for (var i = first; i < first + count; i++)
        {
            x = Layers[i].call(x, additiveMask);
        }

        return x.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// BERT's pooled output: tanh(dense(hidden[:, 0])).
    /// </summary>
    /// <param name="hidden">Hidden states from <see cref="Module{T1, T2, T3, TResult}.forward"/>, [B, T, H].</param>
    /// <returns>Pooled vectors, [B, H].</returns>
    public Tensor Pool(Tensor hidden) => pooler.call(hidden);

    /// <summary>
    /// Turns a [B, T] padding mask into the additive attention mask the layers use.
    /// </summary>
    /// <param name="attentionMask">[B, T], nonzero (or true) for real tokens.</param>
    /// <param name="dtype">Floating type of the hidden states.</param>
    /// <returns>[B, 1, 1, T]: 0 for real tokens, the most negative finite value of <paramref name="dtype"/> for padding.</returns>
    public static Tensor ExtendedAttentionMask(Tensor attentionMask, ScalarType dtype)
    {
        ArgumentNullException.ThrowIfNull(attentionMask);

        // The most negative finite value rather than -inf: a row of padding only (an empty example)
        // then softmaxes to a uniform distribution instead of NaN, which would poison the whole batch's gradients.
        using var padding = attentionMask.eq(0);
        using var additive = zeros(attentionMask.shape, dtype, attentionMask.device)
            .masked_fill_(padding, finfo(dtype).min);
        return additive.view(attentionMask.shape[0], 1, 1, attentionMask.shape[1]);
    }

    /// <summary>
    /// Freezes the embeddings and the bottom layers and unfreezes everything above them.
    /// </summary>
    /// <param name="bottomLayers">How many layers, counted from the embeddings, to freeze (0 to <see cref="BertConfig.LayerCount"/>).</param>
    /// <param name="embeddings">Whether to freeze the embeddings too.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bottomLayers"/> is negative or above the layer count.</exception>
    /// <remarks>
    /// Frozen parameters get <c>requires_grad = false</c>. Build the optimizer from parameters that still
    /// require gradients, or rebuild it after changing what is frozen.
    /// </remarks>
    public void FreezeBottom(int bottomLayers, bool embeddings = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bottomLayers);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bottomLayers, Config.LayerCount);

        foreach (var p in this.embeddings.parameters())
        {
            p.requires_grad = !embeddings;
        }

        for (var i = 0; i < Layers.Count; i++)
        {
            foreach (var p in Layers[i].parameters())
            {
                p.requires_grad = i >= bottomLayers;
            }
        }

        foreach (var p in pooler.parameters())
        {
            p.requires_grad = true;
        }
    }

    private void InitializeWeights()
    {
        using var noGrad = no_grad();
        foreach (var (name, parameter) in named_parameters())
        {
            if (name.EndsWith("LayerNorm.weight", StringComparison.Ordinal))
            {
                init.ones_(parameter);
            }
            else if (name.EndsWith(".bias", StringComparison.Ordinal))
            {
                init.zeros_(parameter);
            }
            else
            {
                init.normal_(parameter, 0, InitializerRange);
            }
        }

        // As in BERT: the padding token starts as the zero vector (padding_idx keeps it out of the gradient).
        var wordEmbeddings = get_parameter("embeddings.word_embeddings.weight")
            ?? throw new InvalidOperationException("BertEmbeddings no longer registers word_embeddings.weight.");
        using var padding = wordEmbeddings[Config.PadTokenId];
        padding.zero_();
    }

    /// <summary>
    /// Checks a batch as <see cref="Module{T1, T2, T3, TResult}.forward"/> does.
    /// </summary>
    /// <param name="inputIds">Token ids, [B, T], int64.</param>
    /// <param name="tokenTypeIds">Segment ids, [B, T], int64.</param>
    /// <param name="attentionMask">[B, T] padding mask.</param>
    /// <exception cref="ArgumentException">The inputs do not have matching [B, T] shapes or integer ids.</exception>
    public static void CheckInputs(Tensor inputIds, Tensor tokenTypeIds, Tensor attentionMask)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        ArgumentNullException.ThrowIfNull(tokenTypeIds);
        ArgumentNullException.ThrowIfNull(attentionMask);

        if (inputIds.dim() != 2)
        {
            throw new ArgumentException(
                $"inputIds must be [batch, tokens], but has shape [{string.Join(", ", inputIds.shape)}].",
                nameof(inputIds));
        }

        if (!tokenTypeIds.shape.SequenceEqual(inputIds.shape) || !attentionMask.shape.SequenceEqual(inputIds.shape))
        {
            throw new ArgumentException(
                $"inputIds [{string.Join(", ", inputIds.shape)}], tokenTypeIds [{string.Join(", ", tokenTypeIds.shape)}] " +
                $"and attentionMask [{string.Join(", ", attentionMask.shape)}] must have the same shape.");
        }

        if (inputIds.dtype != ScalarType.Int64 || tokenTypeIds.dtype != ScalarType.Int64)
        {
            throw new ArgumentException(
                $"inputIds and tokenTypeIds must be int64, but are {inputIds.dtype} and {tokenTypeIds.dtype}.");
        }
    }
}
