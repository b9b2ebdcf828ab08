using MtlHost.Abstractions;
using MtlHost.Abstractions.Kinds;
using MtlHost.Core.Inference;
using MtlHost.Core.Kinds;
using MtlHost.Tests.Infrastructure;
using Shouldly;
using Xunit;
using static TorchSharp.torch;

namespace MtlHost.Tests.Kinds;

/// <summary>
/// Each kind's handler on its own: an example encoded, collated with another and decoded from outputs that favour its
/// targets gives the example's label back; the targets have the shape and type the SDK documents for the kind.
/// </summary>
public sealed class TaskKindHandlerTests
{
    public static TheoryData<TaskKind> Kinds() => new(Enum.GetValues<TaskKind>());

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Every_kind_has_one_handler_and_one_contract_and_they_agree_on_the_output_shape(TaskKind kind)
    {
        var handler = TaskKindHandler.For(kind);
        handler.Kind.ShouldBe(kind);
        TaskKindHandler.Named(kind.ToString()).ShouldBeSameAs(handler);
        TaskKindContract.For(kind).Kind.ShouldBe(kind);
        handler.OutputShape(3, 7, 4).ShouldBe(TaskKindContract.For(kind).OutputShape(3, 7, 4));
    }

    [Fact]
    public void An_undefined_kind_has_no_handler_and_an_unknown_name_none_either()
    {
        Should.Throw<ArgumentOutOfRangeException>(() => TaskKindHandler.For((TaskKind)99));
        Should.Throw<ArgumentOutOfRangeException>(() => TaskKindContract.For((TaskKind)99));
        TaskKindHandler.Named("Ranking").ShouldBeNull();
        TaskKindHandler.Named("sequenceclassification").ShouldBeNull();
    }

    [Fact]
    public void Sequence_classification_round_trips_a_label_through_encode_collate_and_decode()
    {
        var descriptor = Descriptor(TaskKind.SequenceClassification, "cat", "dog", "bird");
        var encoder = Encoder(descriptor);
        var examples = new[] { encoder.Encode(TaskExample.ForText("a dog barks", "dog")), encoder.Encode(TaskExample.ForText("the bird sings loudly", "bird")) };

        using var batch = BatchCollator.Collate(examples, descriptor.Kind, TinyRuntimes.Tokenizer.PadId, CPU);
        batch.Targets.dtype.ShouldBe(ScalarType.Int64);
        batch.Targets.data<long>().ToArray().ShouldBe([1L, 2L]);

        var predictions = PredictionDecoder.Decode(descriptor, Favouring(batch.Targets, 3));
        predictions.Select(p => p.Label).ShouldBe(["dog", "bird"]);
        predictions[0].Scores.Keys.First().ShouldBe("dog");
        predictions[0].Kind.ShouldBe(nameof(TaskKind.SequenceClassification));
    }

    [Fact]
    public void Pair_classification_encodes_both_texts_with_segment_ids_and_round_trips_its_label()
    {
        var descriptor = Descriptor(TaskKind.PairClassification, "same", "different");
        var encoder = Encoder(descriptor);
        var examples = new[] { encoder.Encode(TaskExample.ForPair("a cat", "a kitten", "same")), encoder.Encode(TaskExample.ForPair("a cat", "a truck", "different")) };
        examples[0].TokenTypeIds.ShouldContain(1);

        using var batch = BatchCollator.Collate(examples, descriptor.Kind, TinyRuntimes.Tokenizer.PadId, CPU);
        batch.Targets.data<long>().ToArray().ShouldBe([0L, 1L]);
        PredictionDecoder.Decode(descriptor, Favouring(batch.Targets, 2)).Select(p => p.Label).ShouldBe(["same", "different"]);
        TaskKindHandler.For(TaskKind.PairClassification).Input.ShouldBe(InputEncoding.Pair);
    }

    [Fact]
    public void Multi_label_classification_round_trips_a_label_set_through_multi_hot_targets()
    {
        var descriptor = Descriptor(TaskKind.MultiLabelClassification, "red", "green", "blue");
        var encoder = Encoder(descriptor);
        var examples = new[]
        {
            encoder.Encode(TaskExample.ForLabelSet("grass and sky", ["green", "blue"])),
            encoder.Encode(TaskExample.ForLabelSet("nothing at all", [])),
        };

        using var batch = BatchCollator.Collate(examples, descriptor.Kind, TinyRuntimes.Tokenizer.PadId, CPU);
        batch.Targets.dtype.ShouldBe(ScalarType.Float32);
        batch.Targets.shape.ShouldBe([2L, 3L]);
        batch.Targets.data<float>().ToArray().ShouldBe([0f, 1f, 1f, 0f, 0f, 0f]);

        var predictions = PredictionDecoder.Decode(descriptor, (batch.Targets * 2 - 1) * 5);
        predictions[0].Labels!.Order().ShouldBe(["blue", "green"]);
        predictions[1].Labels.ShouldBeEmpty();
    }

    [Fact]
    public void Token_classification_labels_first_sub_tokens_only_and_round_trips_every_words_label()
    {
        var descriptor = Descriptor(TaskKind.TokenClassification, "O", "ANIMAL");
        var encoder = Encoder(descriptor);
        string[] words = ["the", "unbelievably", "cat"];
        var example = encoder.Encode(TaskExample.ForWords(words, ["O", null, "ANIMAL"]));
        var shorter = encoder.Encode(TaskExample.ForWords(["cat"], ["ANIMAL"]));

        using var batch = BatchCollator.Collate([example, shorter], descriptor.Kind, TinyRuntimes.Tokenizer.PadId, CPU);
        batch.Targets.dtype.ShouldBe(ScalarType.Int64);
        batch.Targets.shape.ShouldBe([2L, example.InputIds.Length]);
        var targets = batch.Targets.data<long>().ToArray();
        // "the" and "cat" of the first row and "cat" of the second; the unlabelled word, [CLS], [SEP] and the padding are ignored.
        targets.Count(t => t != TaskTargets.IgnoreIndex).ShouldBe(3);
        targets[example.InputIds.Length..].Count(t => t == TaskTargets.IgnoreIndex).ShouldBe(example.InputIds.Length - 1);

        var labels = batch.Targets.clamp_min(0);
        var outputs = nn.functional.one_hot(labels, 2).to_type(ScalarType.Float32) * 10;
        var alignment = new WordAlignment(words, TinyRuntimes.Tokenizer.EncodeWords(words, 32).WordIds);
        var shorterAlignment = new WordAlignment(["cat"], TinyRuntimes.Tokenizer.EncodeWords(["cat"], 32).WordIds);
        var predictions = PredictionDecoder.Decode(descriptor, outputs, [alignment, shorterAlignment]);
        predictions[0].Words!.Select(w => (w.Word, w.Label)).ShouldBe([("the", "O"), ("unbelievably", "O"), ("cat", "ANIMAL")]);
        predictions[1].Words!.Single().Label.ShouldBe("ANIMAL");
        Should.Throw<ArgumentException>(() => PredictionDecoder.Decode(descriptor, outputs));
    }

    [Fact]
    public void Regression_round_trips_its_value_and_counts_no_labels()
    {
        var descriptor = Descriptor(TaskKind.Regression);
        var encoder = Encoder(descriptor);
        var examples = new[] { encoder.Encode(TaskExample.ForValue("three syllables", 3)), encoder.Encode(TaskExample.ForValue("one", 1.5)) };

        using var batch = BatchCollator.Collate(examples, descriptor.Kind, TinyRuntimes.Tokenizer.PadId, CPU);
        batch.Targets.dtype.ShouldBe(ScalarType.Float32);
        PredictionDecoder.Decode(descriptor, batch.Targets).Select(p => p.Value).ShouldBe([3d, 1.5d]);
        TaskKindHandler.For(TaskKind.Regression).Summarize(examples, 0).LabelCounts.ShouldBeEmpty();
    }

    [Fact]
    public void A_missing_member_or_unknown_label_names_the_task_and_the_example()
    {
        var encoder = Encoder(Descriptor(TaskKind.PairClassification, "same", "different"));
        Should.Throw<TaskDataException>(() => encoder.Encode(TaskExample.ForText("only one text", "same", "train.jsonl:4")))
            .Message.ShouldBe("task 'demo', train.jsonl:4: a PairClassification example needs TextPair, but it is missing or empty.");
        Should.Throw<TaskDataException>(() => encoder.Encode(TaskExample.ForPair("a", "b", "similar", "train.jsonl:5")))
            .Message.ShouldBe("task 'demo', train.jsonl:5: unknown label 'similar'; task 'demo' has labels same, different.");
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void The_trivial_baseline_has_the_heads_shape_and_the_summary_counts_training_labels(TaskKind kind)
    {
        var descriptor = kind == TaskKind.Regression ? Descriptor(kind) : Descriptor(kind, "a", "b");
        var encoder = Encoder(descriptor);
        TaskExample Example(string label) => kind switch
        {
            TaskKind.PairClassification => TaskExample.ForPair("some text", "more text", label),
            TaskKind.MultiLabelClassification => TaskExample.ForLabelSet("some text", [label]),
            TaskKind.TokenClassification => TaskExample.ForWords(["some", "text"], [label, null]),
            TaskKind.Regression => TaskExample.ForValue("some text", label == "a" ? 1 : 2),
            _ => TaskExample.ForText("some text", label),
        };
        var train = new[] { Example("a"), Example("b"), Example("b") }.Select(encoder.Encode).ToList();
        var handler = TaskKindHandler.For(kind);

        using var batch = BatchCollator.Collate(train, kind, TinyRuntimes.Tokenizer.PadId, CPU);
        using var outputs = handler.BaselineOutputs(train, descriptor.OutputSize, batch.Targets);
        outputs.shape.ShouldBe(handler.OutputShape(3, batch.InputIds.shape[1], descriptor.OutputSize));

        var summary = handler.Summarize(train, descriptor.Labels.Count);
        summary.Examples.ShouldBe(3);
        summary.LabelCounts.ShouldBe(kind == TaskKind.Regression ? [] : new long[] { 1, 2 });
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void A_head_of_the_plugins_own_design_is_not_described_as_the_sdks(TaskKind kind)
    {
        var handler = TaskKindHandler.For(kind);
        handler.DescribeHead(["dense.bias", "dense.weight", "out.bias", "out.weight"]).ShouldBeNull();
        var sdkHead = kind == TaskKind.Regression ? new[] { "regressor.bias", "regressor.weight" } : ["classifier.bias", "classifier.weight"];
        handler.DescribeHead(sdkHead).ShouldNotBeNull().ShouldStartWith("h = BertModel(");
    }

    private static TaskDescriptor Descriptor(TaskKind kind, params string[] labels) => new("demo", new Version(1, 0), kind, labels);

    private static ExampleEncoder Encoder(TaskDescriptor descriptor) => new(TinyRuntimes.Tokenizer, descriptor, 32);

    // Logits that put each row's target label far ahead of the others.
    private static Tensor Favouring(Tensor targets, int labels) => nn.functional.one_hot(targets, labels).to_type(ScalarType.Float32) * 10;
}
