using MtlHost.Abstractions;
using MtlHost.Core.Data;
using MtlHost.Core.Tokenization;

namespace MtlHost.Core.Kinds;

/// <summary>
/// Tokenizes raw examples with the shared tokenizer and turns labels into target values, as the task's
/// <see cref="TaskKindHandler"/> does for its kind; the label lookups and the messages of a bad example are kept here,
/// where they are the same for every kind.
/// </summary>
public sealed class ExampleEncoder
{
    private readonly TaskDescriptor _descriptor;
    private readonly TaskKindHandler _handler;
    private readonly Dictionary<string, int> _labelIndex;

    /// <summary>Creates the encoder for one task.</summary>
    /// <param name="tokenizer">The shared tokenizer.</param>
    /// <param name="descriptor">The task.</param>
    /// <param name="maxLength">Longest token sequence, including special tokens; longer inputs are truncated.</param>
    public ExampleEncoder(BertWordPieceTokenizer tokenizer, TaskDescriptor descriptor, int maxLength)
    {
        Tokenizer = tokenizer;
        _descriptor = descriptor;
        _handler = TaskKindHandler.For(descriptor.Kind);
        MaxLength = maxLength;
        _labelIndex = descriptor.Labels.Select((label, index) => (label, index)).ToDictionary(p => p.label, p => p.index, StringComparer.Ordinal);
    }

    /// <summary>The shared tokenizer.</summary>
    public BertWordPieceTokenizer Tokenizer { get; }

    /// <summary>Longest token sequence, including special tokens.</summary>
    public int MaxLength { get; }

    /// <summary>The task's number of labels.</summary>
    public int LabelCount => _descriptor.Labels.Count;

    /// <summary>Encodes one example.</summary>
    /// <param name="example">The raw example.</param>
    /// <returns>Token ids and target.</returns>
    /// <exception cref="TaskDataException">The example lacks what the task's kind needs, or names an unknown label.</exception>
    public EncodedExample Encode(TaskExample example) => _handler.Encode(example, this);

    /// <summary>The index of a label of the task.</summary>
    /// <param name="label">The label.</param>
    /// <param name="example">The example that names it, for the message.</param>
    /// <returns>Its index in the task's labels.</returns>
    /// <exception cref="TaskDataException">The label is missing or not one of the task's.</exception>
    public int IndexOf(string? label, TaskExample example)
    {
        if (label is null)
        {
            throw Missing(example, "Label");
        }
        if (!_labelIndex.TryGetValue(label, out var index))
        {
            throw new TaskDataException(
                $"{Where(example)}: unknown label '{label}'; task '{_descriptor.Id}' has labels {string.Join(", ", _descriptor.Labels)}.");
        }
        return index;
    }

    /// <summary>A text the kind needs.</summary>
    /// <param name="text">The text.</param>
    /// <param name="example">The example, for the message.</param>
    /// <param name="member">The example's member that holds it, for the message.</param>
    /// <returns>The text.</returns>
    /// <exception cref="TaskDataException">The text is missing or blank.</exception>
    public string Require(string? text, TaskExample example, string member) =>
        string.IsNullOrWhiteSpace(text) ? throw Missing(example, member) : text;

    /// <summary>The error of an example that lacks a member its kind needs.</summary>
    /// <param name="example">The example.</param>
    /// <param name="member">The member.</param>
    /// <returns>The exception to throw.</returns>
    public TaskDataException Missing(TaskExample example, string member) =>
        new($"{Where(example)}: a {_descriptor.Kind} example needs {member}, but it is missing or empty.");

    /// <summary>The error of a bad example.</summary>
    /// <param name="example">The example.</param>
    /// <param name="problem">What is wrong with it.</param>
    /// <returns>The exception to throw, naming the task and where the example came from.</returns>
    public TaskDataException Bad(TaskExample example, string problem) => new($"{Where(example)}: {problem}");

    private string Where(TaskExample example) => $"task '{_descriptor.Id}', {example.Source ?? "an example"}";
}
