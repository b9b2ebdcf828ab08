using System.Globalization;
using System.Text.Json;

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
    private readonly IReadOnlyList<string> _fields;

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
        _fields = FieldsOf(descriptor.Kind);
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

    private static IReadOnlyList<string> FieldsOf(TaskKind kind) => kind switch
    {
        TaskKind.SequenceClassification => ["text", "label"],
        TaskKind.PairClassification => ["text", "text_pair", "label"],
        TaskKind.MultiLabelClassification => ["text", "labels"],
        TaskKind.TokenClassification => ["words", "word_labels"],
        _ => ["text", "value"],
    };

    private string RequiredFields() =>
        string.Join(", ", _fields.SkipLast(1).Select(Quote)) + " and " + Quote(_fields[^1]);

    // What the line has instead: its fields the task does not read, and the one that is probably the missing field misspelt.
    private string MissingField(JsonElement root, string name)
    {
        var others = root.EnumerateObject().Select(p => p.Name).Where(n => !_fields.Contains(n, StringComparer.Ordinal))
            .Distinct(StringComparer.Ordinal).ToList();
        if (others.Count == 0)
        {
            return $"missing field {Quote(name)}";
        }
        const int Shown = 5;
        var has = string.Join(", ", others.Take(Shown).Select(Quote)) + (others.Count > Shown ? $" and {others.Count - Shown} more" : "");
        var meant = FieldSuggestion.Closest(name, others);
        if (meant is null)
        {
            return $"missing field {Quote(name)}; the line has {has}";
        }
        // With one other field the question is plain; with several, say which one it is about.
        return others.Count == 1
            ? $"missing field {Quote(name)}; the line has {has} — did you mean {Quote(name)}?"
            : $"missing field {Quote(name)}; the line has {has} — did you mean {Quote(name)} for {Quote(meant)}?";
    }

    private static string Quote(string field) => $"\"{field}\"";

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

            switch (_descriptor.Kind)
            {
                case TaskKind.SequenceClassification:
                {
                    if (!TryText(root, "text", out var text, out problem) || !TryLabel(root, "label", out var label, out problem))
                    {
                        return null;
                    }
                    return TaskExample.ForText(text, label, source);
                }
                case TaskKind.PairClassification:
                {
                    if (!TryText(root, "text", out var first, out problem) || !TryText(root, "text_pair", out var second, out problem) ||
                        !TryLabel(root, "label", out var label, out problem))
                    {
                        return null;
                    }
                    return TaskExample.ForPair(first, second, label, source);
                }
                case TaskKind.MultiLabelClassification:
                {
                    if (!TryText(root, "text", out var text, out problem) || !TryStrings(root, "labels", allowEmpty: true, out var labels, out problem))
                    {
                        return null;
                    }
                    var unknown = labels.FirstOrDefault(l => !_labels.Contains(l));
                    if (unknown is not null)
                    {
                        problem = UnknownLabel("labels", unknown);
                        return null;
                    }
                    return TaskExample.ForLabelSet(text, labels, source);
                }
                case TaskKind.TokenClassification:
                {
                    if (!TryStrings(root, "words", allowEmpty: false, out var words, out problem) ||
                        !TryWordLabels(root, out var wordLabels, out problem))
                    {
                        return null;
                    }
                    if (words.Count != wordLabels.Count)
                    {
                        problem = $"{words.Count} words but {wordLabels.Count} word_labels; give exactly one label per word";
                        return null;
                    }
                    var unknown = wordLabels.FirstOrDefault(l => l is not null && !_labels.Contains(l));
                    if (unknown is not null)
                    {
                        problem = UnknownLabel("word_labels", unknown);
                        return null;
                    }
                    if (wordLabels.All(l => l is null))
                    {
                        problem = "every entry of \"word_labels\" is null; label at least one word";
                        return null;
                    }
                    return TaskExample.ForWords(words, wordLabels, source);
                }
                default:
                {
                    if (!TryText(root, "text", out var text, out problem))
                    {
                        return null;
                    }
                    if (!root.TryGetProperty("value", out var value))
                    {
                        problem = MissingField(root, "value");
                        return null;
                    }
                    double number;
                    if (value.ValueKind == JsonValueKind.Number)
                    {
                        number = value.GetDouble();
                    }
                    else if (value.ValueKind != JsonValueKind.String ||
                             !double.TryParse(value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out number))
                    {
                        problem = $"field \"value\" is not a number ({value.GetRawText()})";
                        return null;
                    }
                    if (!double.IsFinite(number))
                    {
                        problem = "field \"value\" is not finite";
                        return null;
                    }
                    return TaskExample.ForValue(text, number, source);
                }
            }
        }
    }

    private bool TryText(JsonElement root, string name, out string text, out string? problem)
    {
        text = "";
        problem = null;
        if (!root.TryGetProperty(name, out var element))
        {
            problem = MissingField(root, name);
            return false;
        }
        if (element.ValueKind != JsonValueKind.String)
        {
            problem = $"field \"{name}\" must be a string";
            return false;
        }
        text = element.GetString()!;
        if (string.IsNullOrWhiteSpace(text))
        {
            problem = $"field \"{name}\" is empty";
            return false;
        }
        return true;
    }

    private bool TryLabel(JsonElement root, string name, out string label, out string? problem)
    {
        if (!TryText(root, name, out label, out problem))
        {
            return false;
        }
        if (!_labels.Contains(label))
        {
            problem = UnknownLabel(name, label);
            return false;
        }
        return true;
    }

    private bool TryStrings(JsonElement root, string name, bool allowEmpty, out IReadOnlyList<string> values, out string? problem)
    {
        values = [];
        problem = null;
        if (!root.TryGetProperty(name, out var element))
        {
            problem = MissingField(root, name);
            return false;
        }
        if (element.ValueKind != JsonValueKind.Array || element.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
        {
            problem = $"field \"{name}\" must be an array of strings";
            return false;
        }
        var list = element.EnumerateArray().Select(e => e.GetString()!).ToList();
        if (!allowEmpty && list.Count == 0)
        {
            problem = $"field \"{name}\" is empty";
            return false;
        }
        values = list;
        return true;
    }

    // A null entry marks a word without a label, which the loss and the metric skip.
    private bool TryWordLabels(JsonElement root, out IReadOnlyList<string?> values, out string? problem)
    {
        values = [];
        problem = null;
        if (!root.TryGetProperty("word_labels", out var element))
        {
            problem = MissingField(root, "word_labels");
            return false;
        }
        if (element.ValueKind != JsonValueKind.Array || element.EnumerateArray().Any(e => e.ValueKind is not (JsonValueKind.String or JsonValueKind.Null)))
        {
            problem = "field \"word_labels\" must be an array of strings (or null for a word without a label)";
            return false;
        }
        var list = element.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Null ? null : e.GetString()).ToList();
        if (list.Count == 0)
        {
            problem = "field \"word_labels\" is empty";
            return false;
        }
        values = list;
        return true;
    }

    private string UnknownLabel(string field, string label) =>
        $"unknown label \"{label}\" in \"{field}\"; the task's labels are {string.Join(", ", _descriptor.Labels)}";
}
