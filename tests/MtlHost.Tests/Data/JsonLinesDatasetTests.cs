using MtlHost.Abstractions;
using MtlHost.Core.Data;
using MtlHost.Core.Kinds;
using MtlHost.Tests.Infrastructure;
using Shouldly;
using Xunit;

namespace MtlHost.Tests.Data;

public sealed class JsonLinesDatasetTests : IDisposable
{
    private static readonly TaskDescriptor Sequence = new("demo", new Version(1, 0), TaskKind.SequenceClassification, ["ham", "spam"]);
    private readonly TemporaryDirectory _folder = new();
    private readonly List<DataProblem> _problems = [];

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Reads_text_and_label_and_records_the_source_line()
    {
        Write("train", """{"text": "cheap pills $$$", "label": "spam", "extra": 1}""", "", """{"text": "meeting at 10", "label": "ham"}""");

        var examples = Dataset().Read(DataSplit.Train).ToList();

        examples.Select(e => e.Label).ShouldBe(["spam", "ham"]);
        examples[1].Source.ShouldBe("train.jsonl:3");
        _problems.ShouldBeEmpty();
    }

    [Theory]
    [InlineData("""{"text": "x", "label": "eggs"}""", "unknown label \"eggs\"")]
    [InlineData("""{"label": "spam"}""", "missing field \"text\"")]
    [InlineData("""{"text": "  ", "label": "spam"}""", "field \"text\" is empty")]
    [InlineData("""{"text": "x", "label": "spam" """, "not valid JSON")]
    [InlineData("""["x", "spam"]""", "expected a JSON object")]
    public void A_bad_line_is_reported_with_file_and_line_and_skipped(string badLine, string expected)
    {
        Write("train", """{"text": "ok", "label": "ham"}""", badLine, """{"text": "fine", "label": "spam"}""");

        var examples = Dataset().Read(DataSplit.Train).ToList();

        examples.Count.ShouldBe(2);
        var problem = _problems.ShouldHaveSingleItem();
        problem.Line.ShouldBe(2);
        problem.File.ShouldEndWith("train.jsonl");
        problem.Problem.ShouldContain(expected);
        problem.ToString().ShouldStartWith(problem.File + ":2: ");
    }

    [Theory]
    [InlineData("""{"text": "a", "text_piar": "b", "label": "ham"}""", "missing field \"text_pair\"; the line has \"text_piar\" — did you mean \"text_pair\"?")]
    [InlineData("""{"text": "a", "text_pair": "b", "Label": "ham"}""", "missing field \"label\"; the line has \"Label\" — did you mean \"label\"?")]
    [InlineData("""{"id": 7, "txet": "a", "text_pair": "b", "label": "ham"}""", "missing field \"text\"; the line has \"id\", \"txet\" — did you mean \"text\" for \"txet\"?")]
    [InlineData("""{"text": "a", "second": "b", "label": "ham"}""", "missing field \"text_pair\"; the line has \"second\"")]
    [InlineData("""{"text": "a", "label": "ham"}""", "missing field \"text_pair\"")]
    public void A_missing_field_names_the_fields_the_line_has_instead_and_the_likely_misspelling(string line, string expected)
    {
        var pair = new TaskDescriptor("pairs", new Version(1, 0), TaskKind.PairClassification, ["ham", "spam"]);
        Write("train", """{"text": "a", "text_pair": "b", "label": "ham"}""", "", line);

        new JsonLinesDataset(_folder.Path, pair, Context()).Read(DataSplit.Train).Count().ShouldBe(1);

        _problems.ShouldHaveSingleItem().ToString().ShouldBe($"{Path.Combine(_folder.Path, "train.jsonl")}:3: {expected}");
    }

    [Fact]
    public void Each_kind_suggests_its_own_fields()
    {
        var multiLabel = new TaskDescriptor("tags", new Version(1, 0), TaskKind.MultiLabelClassification, ["x"]);
        Write("train", """{"text": "a", "label": ["x"]}""");
        new JsonLinesDataset(_folder.Path, multiLabel, Context()).Read(DataSplit.Train).ToList();
        _problems.Last().Problem.ShouldBe("missing field \"labels\"; the line has \"label\" — did you mean \"labels\"?");

        var tokens = new TaskDescriptor("ner", new Version(1, 0), TaskKind.TokenClassification, ["O"]);
        Write("train", """{"words": ["a"], "wordlabels": ["O"]}""");
        new JsonLinesDataset(_folder.Path, tokens, Context()).Read(DataSplit.Train).ToList();
        _problems.Last().Problem.ShouldBe("missing field \"word_labels\"; the line has \"wordlabels\" — did you mean \"word_labels\"?");

        var regression = new TaskDescriptor("syllables", new Version(1, 0), TaskKind.Regression, []);
        Write("train", """{"text": "cat", "vlaue": 1}""");
        new JsonLinesDataset(_folder.Path, regression, Context()).Read(DataSplit.Train).ToList();
        _problems.Last().Problem.ShouldBe("missing field \"value\"; the line has \"vlaue\" — did you mean \"value\"?");
    }

    [Theory]
    [InlineData("text_pair", "text_piar", 1)]
    [InlineData("label", "lable", 1)]
    [InlineData("label", "Label", 1)]
    [InlineData("text", "id", 4)]
    [InlineData("word_labels", "words", 6)]
    public void Field_distance_counts_a_swap_of_neighbours_as_one_edit(string a, string b, int distance) =>
        FieldSuggestion.Distance(a, b).ShouldBe(distance);

    [Fact]
    public void Only_a_close_name_is_suggested_the_closest_first()
    {
        FieldSuggestion.Closest("text", ["id", "body"]).ShouldBeNull();
        FieldSuggestion.Closest("label", ["lbl", "labl", "lable"]).ShouldBe("labl");
        FieldSuggestion.Closest("text", ["TEXT"]).ShouldBe("TEXT");
    }

    [Fact]
    public void Too_many_bad_lines_make_the_split_unusable_with_the_first_one_named()
    {
        Write("train", Enumerable.Repeat("""{"text": "x"}""", 4).ToArray());

        var error = Should.Throw<TaskDataException>(() => new JsonLinesDataset(_folder.Path, Sequence, Context()) { MaxBadLines = 2 }
            .Read(DataSplit.Train).ToList());

        error.Message.ShouldContain("more than 2 bad lines");
        error.Message.ShouldContain("train.jsonl:1: missing field \"label\"");
    }

    [Fact]
    public void A_missing_split_file_names_the_file_and_the_fix()
    {
        var error = Should.Throw<TaskDataException>(() => Dataset().Read(DataSplit.Validation).ToList());

        error.Message.ShouldContain("validation.jsonl");
        error.Message.ShouldContain("does not exist");
    }

    [Fact]
    public void Token_regression_and_multi_label_lines_are_checked_for_their_kind()
    {
        var tokens = new TaskDescriptor("ner", new Version(1, 0), TaskKind.TokenClassification, ["O", "B-X"]);
        Write("train", """{"words": ["a", "b"], "word_labels": ["O"]}""", """{"words": ["a"], "word_labels": ["B-X"]}""");
        new JsonLinesDataset(_folder.Path, tokens, Context()).Read(DataSplit.Train).Count().ShouldBe(1);
        _problems.Last().Problem.ShouldContain("2 words but 1 word_labels");

        var regression = new TaskDescriptor("syllables", new Version(1, 0), TaskKind.Regression, []);
        Write("train", """{"text": "cat", "value": "one"}""", """{"text": "cat", "value": 1}""", """{"text": "dog", "value": "2.5"}""");
        new JsonLinesDataset(_folder.Path, regression, Context()).Read(DataSplit.Train).Select(e => e.Value).ShouldBe([1.0, 2.5]);
        _problems.Last().Problem.ShouldContain("not a number");

        var multi = new TaskDescriptor("topics", new Version(1, 0), TaskKind.MultiLabelClassification, ["a", "b"]);
        Write("train", """{"text": "t", "labels": ["a", "c"]}""", """{"text": "t", "labels": []}""");
        new JsonLinesDataset(_folder.Path, multi, Context()).Read(DataSplit.Train).Count().ShouldBe(1);
        _problems.Last().Problem.ShouldContain("unknown label \"c\"");
    }

    [Fact]
    public void A_null_word_label_leaves_that_word_unlabelled_and_the_encoder_ignores_it()
    {
        var tokens = new TaskDescriptor("pos", new Version(1, 0), TaskKind.TokenClassification, ["noun", "other"]);
        Write("train", """{"words": ["the", "cat", "naps"], "word_labels": ["other", "noun", null]}""",
            """{"words": ["a", "b"], "word_labels": [null, null]}""", """{"words": ["a"], "word_labels": [3]}""");

        var example = new JsonLinesDataset(_folder.Path, tokens, Context()).Read(DataSplit.Train).ToList().ShouldHaveSingleItem();

        example.WordLabels.ShouldBe(["other", "noun", null]);
        _problems.Select(p => p.Problem).ShouldBe(["every entry of \"word_labels\" is null; label at least one word",
            "field \"word_labels\" must be an array of strings (or null for a word without a label)"]);
        var encoded = new ExampleEncoder(TinyRuntimes.Tokenizer, tokens, 16).Encode(example);
        // [CLS] the cat naps [SEP]: "naps" has no label, so only "the" and "cat" carry targets.
        encoded.TokenLabels!.Count(l => l != TaskTargets.IgnoreIndex).ShouldBe(2);
        encoded.TokenLabels![1].ShouldBe(1);
        encoded.TokenLabels![2].ShouldBe(0);
    }

    private JsonLinesDataset Dataset() => new(_folder.Path, Sequence, Context());

    private TaskContext Context() => new(_folder.Path, 0, _problems.Add);

    private void Write(string split, params string[] lines) => File.WriteAllLines(_folder.Combine(split + ".jsonl"), lines);
}
