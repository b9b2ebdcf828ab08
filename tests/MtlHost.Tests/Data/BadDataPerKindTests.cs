using MtlHost.Abstractions;
using MtlHost.Tests.Infrastructure;
using Shouldly;
using Xunit;

namespace MtlHost.Tests.Data;

/// <summary>Every kind's bad lines are reported with file, line and problem, and skipped.</summary>
public sealed class BadDataPerKindTests : IDisposable
{
    private readonly TemporaryDirectory _folder = new();
    private readonly List<DataProblem> _problems = [];

    public void Dispose() => _folder.Dispose();

    public static TheoryData<TaskKind, string, string, string> BadLines => new()
    {
        // kind, a good line, a bad line, what the report must say
        { TaskKind.PairClassification, """{"text": "a", "text_pair": "b", "label": "same"}""", """{"text": "a", "label": "same"}""", "missing field \"text_pair\"" },
        { TaskKind.PairClassification, """{"text": "a", "text_pair": "b", "label": "same"}""", """{"text": "a", "text_pair": " ", "label": "same"}""", "field \"text_pair\" is empty" },
        { TaskKind.PairClassification, """{"text": "a", "text_pair": "b", "label": "same"}""", """{"text": "a", "text_pair": "b", "label": "equal"}""", "unknown label \"equal\"" },
        { TaskKind.MultiLabelClassification, """{"text": "a", "labels": ["x"]}""", """{"text": "a", "labels": "x"}""", "field \"labels\" must be an array of strings" },
        { TaskKind.MultiLabelClassification, """{"text": "a", "labels": ["x"]}""", """{"text": "", "labels": ["x"]}""", "field \"text\" is empty" },
        { TaskKind.MultiLabelClassification, """{"text": "a", "labels": ["x"]}""", """{"text": "a"}""", "missing field \"labels\"" },
        { TaskKind.MultiLabelClassification, """{"text": "a", "labels": ["x"]}""", """{"text": "a", "labels": ["x", "B-x"]}""", "unknown label \"B-x\"" },
        { TaskKind.TokenClassification, """{"words": ["a", "b"], "word_labels": ["B-x", "O"]}""", """{"words": ["a", "b", "c"], "word_labels": ["B-x", "O"]}""", "3 words but 2 word_labels" },
        { TaskKind.TokenClassification, """{"words": ["a", "b"], "word_labels": ["B-x", "O"]}""", """{"words": ["a"], "word_labels": ["B-y"]}""", "unknown label \"B-y\"" },
        { TaskKind.TokenClassification, """{"words": ["a", "b"], "word_labels": ["B-x", "O"]}""", """{"words": [], "word_labels": []}""", "field \"words\" is empty" },
        { TaskKind.TokenClassification, """{"words": ["a", "b"], "word_labels": ["B-x", "O"]}""", """{"words": ["a"]}""", "missing field \"word_labels\"" },
        { TaskKind.Regression, """{"text": "cat", "value": 1}""", """{"text": "cat", "value": "three"}""", "field \"value\" is not a number" },
        { TaskKind.Regression, """{"text": "cat", "value": 1}""", """{"text": "cat", "value": true}""", "field \"value\" is not a number" },
        { TaskKind.Regression, """{"text": "cat", "value": 1}""", """{"text": "cat", "value": "NaN"}""", "field \"value\" is not finite" },
        { TaskKind.Regression, """{"text": "cat", "value": 1}""", """{"text": "cat"}""", "missing field \"value\"" },
        { TaskKind.Regression, """{"text": "cat", "value": 1}""", """{"text": "  ", "value": 1}""", "field \"text\" is empty" },
    };

    [Theory]
    [MemberData(nameof(BadLines))]
    public void A_bad_line_is_reported_with_file_line_and_problem_and_skipped(TaskKind kind, string good, string bad, string expected)
    {
        Write("validation", good, bad, good);

        var examples = Dataset(kind).Read(DataSplit.Validation).ToList();

        examples.Count.ShouldBe(2);
        var problem = _problems.ShouldHaveSingleItem();
        problem.ToString().ShouldStartWith(_folder.Combine("validation.jsonl") + ":2: ");
        problem.Problem.ShouldContain(expected);
    }

    [Theory]
    [MemberData(nameof(BadLines))]
    public void More_bad_lines_than_the_limit_refuse_the_split_naming_the_first(TaskKind kind, string good, string bad, string expected)
    {
        Write("train", [good, .. Enumerable.Repeat(bad, 4)]);

        var error = Should.Throw<TaskDataException>(() =>
            new JsonLinesDataset(_folder.Path, Descriptor(kind), Context()) { MaxBadLines = 3 }.Read(DataSplit.Train).ToList());

        error.Message.ShouldContain("more than 3 bad lines");
        error.Message.ShouldContain("train.jsonl:2: " + expected);
        _problems.Count.ShouldBe(4);
    }

    private static TaskDescriptor Descriptor(TaskKind kind) => new("demo", new Version(1, 0), kind, kind switch
    {
        TaskKind.PairClassification => ["different", "same"],
        TaskKind.MultiLabelClassification => ["x", "y"],
        TaskKind.TokenClassification => ["O", "B-x", "I-x"],
        _ => [],
    });

    private JsonLinesDataset Dataset(TaskKind kind) => new(_folder.Path, Descriptor(kind), Context());

    private TaskContext Context() => new(_folder.Path, 0, _problems.Add);

    private void Write(string split, params string[] lines) => File.WriteAllLines(_folder.Combine(split + ".jsonl"), lines);
}
