using MtlHost.Core.Encoders;
using Shouldly;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace MtlHost.Tests.Encoders;

/// <summary>
/// Behaviour of the randomly initialised encoder: shapes, masking, parameter names, seeding.
/// </summary>
/// <remarks>Seeded tests rely on the assembly running tests one at a time (torch's generator is process-wide).</remarks>
public sealed class BertEncoderTests
{
    private static readonly long[][] Sentences =
    [
        [101, 7592, 1010, 2088, 999, 102],
        [101, 1037, 2936, 6251, 2007, 2062, 19204, 2015, 1012, 102],
        [101, 102],
    ];

    [Fact]
    public void Forward_returns_batch_by_tokens_by_hidden_and_pool_returns_batch_by_hidden()
    {
        using var scope = NewDisposeScope();
        using var model = NewTinyEncoder(seed: 1);
        var (ids, types, mask) = Batch(Sentences);

        var hidden = model.call(ids, types, mask);
        var pooled = model.Pool(hidden);

        hidden.shape.ShouldBe([3L, 10L, 64L]);
        hidden.dtype.ShouldBe(ScalarType.Float32);
        pooled.shape.ShouldBe([3L, 64L]);
        model.HiddenSize.ShouldBe(64);
        hidden.isfinite().all().item<bool>().ShouldBeTrue();
    }

    [Fact]
    public void Self_attention_with_one_fused_projection_computes_three_separate_ones_and_their_gradients()
    {
        using var scope = NewDisposeScope();
        var (attention, hidden, mask, parameters) = AttentionCase(seed: 3, attentionDropout: 0);
        using var _ = attention;
        attention.eval();

        var fused = attention.call(hidden, mask);
        fused.sum().backward();
        var fusedGrads = parameters.ToDictionary(p => p.Key, p => p.Value.grad!.clone());
        attention.zero_grad();

        // The textbook form: q, k and v each from its own Linear, heads split and merged again.
        Tensor Heads(string name) => SplitHeads(hidden, parameters, name);
        var reference = nn.functional.scaled_dot_product_attention(Heads("query"), Heads("key"), Heads("value"), attn_mask: mask)
            .transpose(1, 2).reshape(2, 5, 64);
        reference.sum().backward();

        (fused - reference).abs().max().item<float>().ShouldBeLessThan(1e-5f);
        foreach (var (name, parameter) in parameters)
        {
            (fusedGrads[name] - parameter.grad!).abs().max().item<float>().ShouldBeLessThan(1e-5f, name);
        }
    }

    [Fact]
    public void Attention_dropout_while_training_drops_probabilities_with_the_counter_based_mask()
    {
        using var scope = NewDisposeScope();
        var (attention, hidden, mask, parameters) = AttentionCase(seed: 4, attentionDropout: 0.25);
        using var _ = attention;
        attention.train();

        manual_seed(8);
        var dropped = attention.call(hidden, mask);
        dropped.sum().backward();
        var droppedGrads = parameters.ToDictionary(p => p.Key, p => p.Value.grad!.clone());
        attention.zero_grad();

        // softmax(q kᵀ / √d + mask), then the mask UniformMaskDropout draws from the same generator state, then v.
        Tensor Heads(string name) => SplitHeads(hidden, parameters, name);
        var probabilities = nn.functional.softmax(Heads("query").matmul(Heads("key").transpose(-1, -2)) / Math.Sqrt(32) + mask, -1);
        manual_seed(8);
        var seed = (ulong)randint(long.MaxValue, [1], ScalarType.Int64).item<long>();
        var keep = new float[probabilities.numel()];
        DropoutMask.Fill(keep, seed, 0.25);
        var reference = (probabilities * tensor(keep, probabilities.shape)).matmul(Heads("value")).transpose(1, 2).reshape(2, 5, 64);

        reference.sum().backward();

        (dropped - reference).abs().max().item<float>().ShouldBeLessThan(1e-5f);
        foreach (var (name, parameter) in parameters)
        {
            (droppedGrads[name] - parameter.grad!).abs().max().item<float>().ShouldBeLessThan(1e-5f, name);
        }
        keep.Count(k => k == 0).ShouldBeGreaterThan(0);
        attention.eval();
        (attention.call(hidden, mask) - dropped).abs().max().item<float>().ShouldBeGreaterThan(1e-3f);
    }

    // Tiny self-attention over two texts of five tokens, the second's fourth token padding.
    private static (BertSelfAttention Attention, Tensor Hidden, Tensor Mask, Dictionary<string, Tensor> Parameters) AttentionCase(int seed, double attentionDropout)
    {
        manual_seed(seed);
        var attention = new BertSelfAttention(BertConfig.Tiny with { AttentionDropout = attentionDropout });
        var hidden = randn(2, 5, 64);
        var mask = zeros(2, 1, 1, 5);
        mask[1, 0, 0, 3] = tensor(float.MinValue);
        return (attention, hidden, mask, attention.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter));
    }

    // One projection of its own Linear, as [batch, heads, tokens, head size].
    private static Tensor SplitHeads(Tensor hidden, Dictionary<string, Tensor> parameters, string name) =>
        nn.functional.linear(hidden, parameters[name + ".weight"], parameters[name + ".bias"]).view(2, 5, 2, 32).transpose(1, 2);

    [Fact]
    public void Padding_does_not_change_hidden_states_of_real_tokens()
    {
        using var scope = NewDisposeScope();
        using var model = NewTinyEncoder(seed: 2);
        model.eval();

        var (paddedIds, paddedTypes, paddedMask) = Batch(Sentences);
        var padded = model.call(paddedIds, paddedTypes, paddedMask);

        for (var i = 0; i < Sentences.Length; i++)
        {
            var (ids, types, mask) = Batch([Sentences[i]]);
            var alone = model.call(ids, types, mask);
            var length = Sentences[i].Length;

            var difference = MaxAbsDifference(padded[i, ..length], alone[0]);
            difference.ShouldBeLessThan(1e-5f, $"sentence {i}");
        }
    }

    [Fact]
    public void Changing_padding_token_ids_does_not_change_real_tokens()
    {
        using var scope = NewDisposeScope();
        using var model = NewTinyEncoder(seed: 3);
        model.eval();
        var (ids, types, mask) = Batch(Sentences);

        var before = model.call(ids, types, mask);
        var scrambledIds = ids.where(mask.to_type(ScalarType.Bool), tensor(2054L));
        var after = model.call(scrambledIds, types, mask);

        var real = mask.to_type(ScalarType.Bool).unsqueeze(-1).expand_as(before);
        MaxAbsDifference(before.masked_select(real), after.masked_select(real)).ShouldBeLessThan(1e-5f);
    }

    [Fact]
    public void An_example_that_is_all_padding_stays_finite_and_leaves_the_others_alone()
    {
        using var scope = NewDisposeScope();
        using var model = NewTinyEncoder(seed: 13);
        model.eval();
        var (ids, types, mask) = Batch(Sentences);
        var before = model.call(ids, types, mask);

        mask[2].zero_();
        var after = model.call(ids, types, mask);

        after.isfinite().all().item<bool>().ShouldBeTrue();
        MaxAbsDifference(before[..2], after[..2]).ShouldBe(0f);
    }

    [Fact]
    public void Boolean_and_integer_attention_masks_agree()
    {
        using var scope = NewDisposeScope();
        using var model = NewTinyEncoder(seed: 4);
        model.eval();
        var (ids, types, mask) = Batch(Sentences);

        var fromInt64 = model.call(ids, types, mask);
        var fromBool = model.call(ids, types, mask.to_type(ScalarType.Bool));

        MaxAbsDifference(fromInt64, fromBool).ShouldBe(0f);
    }

    [Fact]
    public void Parameter_names_are_hugging_face_bert_state_dict_names()
    {
        using var model = NewTinyEncoder(seed: 5);
        var expected = new List<string>
        {
            "embeddings.word_embeddings.weight",
            "embeddings.position_embeddings.weight",
            "embeddings.token_type_embeddings.weight",
            "embeddings.LayerNorm.weight",
            "embeddings.LayerNorm.bias",
        };
        for (var i = 0; i < BertConfig.Tiny.LayerCount; i++)
        {
            foreach (var linear in new[]
            {
                "attention.self.query", "attention.self.key", "attention.self.value",
                "attention.output.dense", "attention.output.LayerNorm",
                "intermediate.dense", "output.dense", "output.LayerNorm",
            })
            {
                expected.Add($"encoder.layer.{i}.{linear}.weight");
                expected.Add($"encoder.layer.{i}.{linear}.bias");
            }
        }
        expected.Add("pooler.dense.weight");
        expected.Add("pooler.dense.bias");

        model.state_dict().Keys.ShouldBe(expected, ignoreOrder: true);
        model.named_parameters().Select(p => p.name).ShouldBe(expected, ignoreOrder: true);
    }

    [Fact]
    public void Parameter_shapes_follow_the_config()
    {
        using var model = NewTinyEncoder(seed: 6);
        var shapes = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.shape);

        shapes["embeddings.word_embeddings.weight"].ShouldBe([30522L, 64L]);
        shapes["embeddings.position_embeddings.weight"].ShouldBe([512L, 64L]);
        shapes["embeddings.token_type_embeddings.weight"].ShouldBe([2L, 64L]);
        shapes["encoder.layer.1.attention.self.query.weight"].ShouldBe([64L, 64L]);
        shapes["encoder.layer.1.intermediate.dense.weight"].ShouldBe([256L, 64L]);
        shapes["encoder.layer.1.output.dense.weight"].ShouldBe([64L, 256L]);
    }

    [Fact]
    public void Initialisation_is_bert_like()
    {
        using var scope = NewDisposeScope();
        using var model = NewTinyEncoder(seed: 7);
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);

        var words = parameters["embeddings.word_embeddings.weight"];
        words.std().item<float>().ShouldBe(0.02f, 0.001f);
        words[0].abs().max().item<float>().ShouldBe(0f);
        parameters["encoder.layer.0.attention.self.query.bias"].abs().max().item<float>().ShouldBe(0f);
        parameters["encoder.layer.0.output.LayerNorm.weight"].eq(1f).all().item<bool>().ShouldBeTrue();
        parameters["encoder.layer.0.output.LayerNorm.bias"].abs().max().item<float>().ShouldBe(0f);
    }

    [Fact]
    public void Same_seed_gives_identical_weights_and_training_mode_outputs()
    {
        using var scope = NewDisposeScope();
        var (ids, types, mask) = Batch(Sentences);

        using var first = NewTinyEncoder(seed: 42);
        var firstOut = first.call(ids, types, mask);
        using var second = NewTinyEncoder(seed: 42);
        var secondOut = second.call(ids, types, mask);
        using var other = NewTinyEncoder(seed: 43);

        foreach (var ((name, a), (_, b)) in first.named_parameters().Zip(second.named_parameters()))
        {
            Identical(a, b).ShouldBeTrue(name);
        }
        first.training.ShouldBeTrue();
        Identical(firstOut, secondOut).ShouldBeTrue("dropout masks follow the seed too");
        Identical(first.named_parameters().First().parameter, other.named_parameters().First().parameter).ShouldBeFalse();
    }

    [Fact]
    public void Dropout_is_active_in_training_and_off_in_eval()
    {
        using var scope = NewDisposeScope();
        using var model = NewTinyEncoder(seed: 8);
        var (ids, types, mask) = Batch(Sentences);

        var trainA = model.call(ids, types, mask);
        var trainB = model.call(ids, types, mask);
        model.eval();
        var evalA = model.call(ids, types, mask);
        var evalB = model.call(ids, types, mask);

        Identical(trainA, trainB).ShouldBeFalse();
        Identical(evalA, evalB).ShouldBeTrue();
    }

    [Fact]
    public void Backward_reaches_every_encoder_parameter_but_not_the_padding_embedding()
    {
        using var scope = NewDisposeScope();
        using var model = NewTinyEncoder(seed: 9);
        var (ids, types, mask) = Batch(Sentences);

        var hidden = model.call(ids, types, mask);
        model.Pool(hidden).sum().backward();

        foreach (var (name, parameter) in model.named_parameters())
        {
            var grad = parameter.grad;
            grad.ShouldNotBeNull(name);
            if (name != "embeddings.token_type_embeddings.weight")
            {
                grad.abs().sum().item<float>().ShouldBeGreaterThan(0f, name);
            }
        }
        model.named_parameters().Single(p => p.name == "embeddings.word_embeddings.weight")
            .parameter.grad![0].abs().max().item<float>().ShouldBe(0f);
    }

    [Fact]
    public void FreezeBottom_freezes_embeddings_and_lower_layers_only()
    {
        using var model = NewTinyEncoder(seed: 10);

        model.FreezeBottom(1);

        foreach (var (name, parameter) in model.named_parameters())
        {
            var frozen = name.StartsWith("embeddings.", StringComparison.Ordinal)
                || name.StartsWith("encoder.layer.0.", StringComparison.Ordinal);
            parameter.requires_grad.ShouldBe(!frozen, name);
        }

        model.FreezeBottom(0, embeddings: false);
        model.parameters().ShouldAllBe(p => p.requires_grad);
        Should.Throw<ArgumentOutOfRangeException>(() => model.FreezeBottom(3));
    }

    [Fact]
    public void Sequences_longer_than_the_position_table_are_rejected_with_a_clear_message()
    {
        using var scope = NewDisposeScope();
        using var model = NewTinyEncoder(seed: 11);
        var ids = ones(1, 513, dtype: ScalarType.Int64);

        var error = Should.Throw<ArgumentException>(() => model.call(ids, zeros_like(ids), ones_like(ids)));
        error.Message.ShouldContain("513");
        error.Message.ShouldContain("512");
    }

    [Fact]
    public void Mismatched_input_shapes_are_rejected()
    {
        using var scope = NewDisposeScope();
        using var model = NewTinyEncoder(seed: 12);
        var ids = ones(2, 5, dtype: ScalarType.Int64);

        Should.Throw<ArgumentException>(() => model.call(ids, zeros(2, 4, dtype: ScalarType.Int64), ones_like(ids)))
            .Message.ShouldContain("same shape");
    }

    [Fact]
    public void Config_presets_have_the_documented_shapes()
    {
        BertConfig.Tiny.ShouldBe(new BertConfig(30522, 64, 2, 2, 256, 512, 2, 1e-12, 0.1, 0.1));
        BertConfig.MiniLmL6.ShouldBe(new BertConfig(30522, 384, 6, 12, 1536, 512, 2, 1e-12, 0.1, 0.1));
        BertConfig.MiniLmL6.HeadSize.ShouldBe(32);
    }

    [Fact]
    public void Config_rejects_heads_that_do_not_divide_the_hidden_size()
    {
        var error = Should.Throw<ArgumentException>(() => new BertConfig(100, 64, 2, 3, 256, 512, 2, 1e-12, 0.1, 0.1));
        error.Message.ShouldContain("HiddenSize (64)");
        error.Message.ShouldContain("HeadCount (3)");
    }

    [Theory]
    [InlineData(0, 64, 2, 0.1)]
    [InlineData(100, -1, 2, 0.1)]
    [InlineData(100, 64, 0, 0.1)]
    [InlineData(100, 64, 2, 1.0)]
    public void Config_rejects_out_of_range_values(int vocabulary, int hidden, int layers, double dropout)
    {
        Should.Throw<ArgumentException>(() => new BertConfig(vocabulary, hidden, layers, 2, 256, 512, 2, 1e-12, dropout, 0.1));
    }

    [Fact]
    public void Encoder_revalidates_configs_edited_with_a_with_expression()
    {
        var broken = BertConfig.Tiny with { HeadCount = 5 };

        Should.Throw<ArgumentException>(() => new BertEncoder(broken)).Message.ShouldContain("HeadCount (5)");
    }

    private static BertEncoder NewTinyEncoder(int seed)
    {
        manual_seed(seed);
        return new BertEncoder(BertConfig.Tiny);
    }

    private static (Tensor Ids, Tensor Types, Tensor Mask) Batch(IReadOnlyList<long[]> sentences)
    {
        var length = sentences.Max(s => s.Length);
        var ids = new long[sentences.Count * length];
        var mask = new long[sentences.Count * length];
        for (var i = 0; i < sentences.Count; i++)
        {
            sentences[i].CopyTo(ids, i * length);
            Array.Fill(mask, 1L, i * length, sentences[i].Length);
        }

        var shape = new long[] { sentences.Count, length };
        return (tensor(ids, shape), zeros(shape, ScalarType.Int64), tensor(mask, shape));
    }

    // Tensor.equal is elementwise in TorchSharp (PyTorch's torch.equal is Tensor.Equals here); say what is meant.
    private static bool Identical(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    private static float MaxAbsDifference(Tensor a, Tensor b) => (a - b).abs().max().item<float>();
}
