using System.Text.Json;


namespace MtlHost.Abstractions.Kinds;

/// <summary>
/// One JSON Lines object being read for a task, with the checks every kind's reader shares: a field is there, has the
/// right JSON type, is not empty, names a label of the task. A missing field is reported with what the line has instead.
/// </summary>
internal sealed class JsonLineFields
{
    private readonly IReadOnlyList<string> _fields;
    private readonly HashSet<string> _labels;
    private readonly TaskDescriptor _descriptor;

    /// <summary>Wraps one line's object.</summary>
    /// <param name="root">The line's JSON object.</param>
    /// <param name="fields">The fields the task's kind reads.</param>
    /// <param name="labels">The task's labels.</param>
    /// <param name="descriptor">The task, for its labels in messages.</param>
    public JsonLineFields(JsonElement root, IReadOnlyList<string> fields, HashSet<string> labels, TaskDescriptor descriptor)
    {
        Root = root;
        _fields = fields;
        _labels = labels;
        _descriptor = descriptor;
    }

    /// <summary>The line's object.</summary>
    public JsonElement Root { get; }

    /// <summary>Whether <paramref name="label"/> is one of the task's labels.</summary>
    /// <param name="label">A label.</param>
    /// <returns><see langword="true"/> when it is.</returns>
    public bool IsLabel(string label) => _labels.Contains(label);

    /// <summary>Reads a non-empty string field.</summary>
    /// <param name="name">The field.</param>
    /// <param name="text">Its value.</param>
    /// <param name="problem">Why it cannot be read.</param>
    /// <returns>Whether it was read.</returns>
    public bool TryText(string name, out string text, out string? problem)
    {
        text = "";
        problem = null;
        if (!Root.TryGetProperty(name, out var element))
        {
            problem = MissingField(name);
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

    /// <summary>Reads a string field that names one of the task's labels.</summary>
    /// <param name="name">The field.</param>
    /// <param name="label">Its value.</param>
    /// <param name="problem">Why it cannot be read.</param>
    /// <returns>Whether it was read.</returns>
    public bool TryLabel(string name, out string label, out string? problem)
    {
        if (!TryText(name, out label, out problem))
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

    /// <summary>Reads an array of strings.</summary>
    /// <param name="name">The field.</param>
    /// <param name="allowEmpty">Whether an empty array is valid.</param>
    /// <param name="values">Its values.</param>
    /// <param name="problem">Why it cannot be read.</param>
    /// <returns>Whether it was read.</returns>
    public bool TryStrings(string name, bool allowEmpty, out IReadOnlyList<string> values, out string? problem)
    {
        values = [];
        problem = null;
        if (!Root.TryGetProperty(name, out var element))
        {
            problem = MissingField(name);
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

    /// <summary>Reads <c>word_labels</c>: strings, or null for a word without a label, which the loss and the metric skip.</summary>
    /// <param name="values">Its values.</param>
    /// <param name="problem">Why it cannot be read.</param>
    /// <returns>Whether it was read.</returns>
    public bool TryWordLabels(out IReadOnlyList<string?> values, out string? problem)
    {
        values = [];
        problem = null;
        if (!Root.TryGetProperty("word_labels", out var element))
        {
            problem = MissingField("word_labels");
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

    /// <summary>
    /// The problem of a missing field, with what the line has instead: its fields the task does not read, and the one that
    /// is probably the missing field misspelt.
    /// </summary>
    /// <param name="name">The missing field.</param>
    /// <returns>The problem.</returns>
    public string MissingField(string name)
    {
        var others = Root.EnumerateObject().Select(p => p.Name).Where(n => !_fields.Contains(n, StringComparer.Ordinal))
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

    /// <summary>The problem of a label the task does not have.</summary>
    /// <param name="field">The field that names it.</param>
    /// <param name="label">The label.</param>
    /// <returns>The problem.</returns>
    public string UnknownLabel(string field, string label) =>
        $"unknown label \"{label}\" in \"{field}\"; the task's labels are {string.Join(", ", _descriptor.Labels)}";

    /// <summary>A field name as the messages quote it.</summary>
    /// <param name="field">The field.</param>
    /// <returns>It in double quotes.</returns>
    public static string Quote(string field) => $"\"{field}\"";
}
