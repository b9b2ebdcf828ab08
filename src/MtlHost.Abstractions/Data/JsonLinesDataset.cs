using System.Text.Json;
using MtlHost.Abstractions.Kinds;

namespace MtlHost.Abstractions;

/// <summary>
/// Reads <c>train.jsonl</c>, <c>validation.jsonl</c> and <c>test.jsonl</c> from a folder: one JSON
/// object per line, with the fields the task's kind needs —
/// <c>text</c> and <c>label</c> (sequence classification); <c>text</c>, <c>text_pair</c> and <c>label</c>
/// (pair classification); <c>text</c> and <c>labels</c> (multi-label); <c>words</c> and
/// <c>word_labels</c> (token classification); <c>text</c> and <c>value</c> (regression).
/// Other fields are ignored. A bad line (invalid JSON, a missing or empty field, an unknown label,
/// a word/label count mismatch, a non-numeric value) is reported with file and line and skipped;
/// more bad lines than <see cref="MaxBadLines"/> make the whole split unusable. A missing field is reported with
/// the fields the line has that the task does not use, and the likely misspelling among them
/// (<c>missing field "text_pair"; the line has "text_piar" — did you mean "text_pair"?</c>).
/// </summary>
public sealed class JsonLinesDataset : ITaskDataset
{
    private readonly string _directory;
    private readonly TaskDescriptor _descriptor;
    private readonly TaskContext _context;
    private readonly HashSet<string> _labels;
    private readonly TaskKindContract _contract;

    /// <summary>Creates the adapter.</summary>
    /// <param name="directory">Folder holding the split files.</param>
    /// <param name="descriptor">The task, for its kind and labels.</param>
    /// <param name="context">Receives bad-line reports.</param>
    public JsonLinesDataset(string directory, TaskDescriptor descriptor, TaskContext context)
    {
        _directory = directory;
        _descriptor = descriptor;
        _context = context;
        _labels = new HashSet<string>(descriptor.Labels, StringComparer.Ordinal);
        _contract = TaskKindContract.For(descriptor.Kind);
    }

    /// <summary>Most bad lines tolerated in one split before it is refused; default 10.</summary>
    public int MaxBadLines { get; init; } = 10;

    /// <summary>Path of the file that holds <paramref name="split"/>.</summary>
    /// <param name="split">The partition.</param>
    /// <returns>The file path.</returns>
    public string FileOf(DataSplit split) => Path.Combine(_directory, split switch
    {
        DataSplit.Train => "train.jsonl",
        DataSplit.Validation => "validation.jsonl",
        _ => "test.jsonl",
    });

    /// <inheritdoc />
    public IEnumerable<TaskExample> Read(DataSplit split)
    {
        var file = FileOf(split);
        if (!File.Exists(file))
        {
            throw new TaskDataException(
                $"Task '{_descriptor.Id}': data file '{file}' does not exist. Ship it beside the plugin DLL " +
                $"(for example as <Content> copied to the output) or override DataDirectory.");
        }

        var bad = new List<DataProblem>();
        var lineNumber = 0;
        foreach (var line in File.ReadLines(file))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            var source = $"{Path.GetFileName(file)}:{lineNumber}";
            var example = Parse(line, source, out var problem);
            if (example is null)
            {
                var dataProblem = new DataProblem(file, lineNumber, problem!);
                bad.Add(dataProblem);
                _context.ReportDataProblem(dataProblem);
                if (bad.Count > MaxBadLines)
                {
                    throw new TaskDataException(
                        $"Task '{_descriptor.Id}': more than {MaxBadLines} bad lines in '{file}'; the first was " +
                        $"{bad[0]}. Fix the data file (each line must be a JSON object with {RequiredFields()}).");
                }
                continue;
            }
            yield return example;
        }
    }

    private string RequiredFields() =>
        string.Join(", ", _contract.JsonFields.SkipLast(1).Select(JsonLineFields.Quote)) + " and " + JsonLineFields.Quote(_contract.JsonFields[^1]);

    private TaskExample? Parse(string line, string source, out string? problem)
    {
        problem = null;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line);
        }
        catch (JsonException e)
        {
            problem = $"not valid JSON ({e.Message})";
            return null;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                problem = "expected a JSON object";
                return null;
            }

            return _contract.Read(new JsonLineFields(root, _contract.JsonFields, _labels, _descriptor), source, out problem);
        }
    }
}
