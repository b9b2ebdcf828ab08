using static TorchSharp.torch;

namespace MtlHost.Abstractions.Kinds;

/// <summary>
/// What a <see cref="TaskKind"/> promises plugins, as the enum documents it: the JSON Lines fields of its examples, how
/// many labels it needs, and the shapes of its head's outputs and of its targets. The host's own per-kind work
/// (tokenizing, collating, decoding) builds on this in MtlHost.Core; this half lives in the SDK because the SDK's reader
/// and the plugin validator, which cannot see the host's core, need it too.
/// </summary>
/// <remarks>
/// Internal (shared with the host's assemblies through InternalsVisibleTo), so that the plugin contract stays the public
/// enum and a kind's rules can change without changing the SDK's API baseline.
/// </remarks>
internal abstract class TaskKindContract
{
    private static readonly TaskKindContract[] Contracts =
    [
        new SequenceClassificationContract(),
        new PairClassificationContract(),
        new MultiLabelClassificationContract(),
        new TokenClassificationContract(),
        new RegressionContract(),
    ];

    /// <summary>The kind.</summary>
    public abstract TaskKind Kind { get; }

    /// <summary>The fields of a JSON Lines example, in the order the messages name them.</summary>
    public abstract IReadOnlyList<string> JsonFields { get; }

    /// <summary>The contract of <paramref name="kind"/>.</summary>
    /// <param name="kind">A defined kind.</param>
    /// <returns>Its contract.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="kind"/> is not a defined <see cref="TaskKind"/>.</exception>
    public static TaskKindContract For(TaskKind kind) =>
        Contracts.FirstOrDefault(c => c.Kind == kind) ?? throw new ArgumentOutOfRangeException(nameof(kind), kind, "Not a defined task kind.");

    /// <summary>Why a task of this kind cannot have <paramref name="labels"/>, or <see langword="null"/> when it can.</summary>
    /// <param name="descriptor">The task.</param>
    /// <param name="labels">Its labels (never null).</param>
    /// <returns>The problem, or <see langword="null"/>.</returns>
    public abstract string? LabelProblem(TaskDescriptor descriptor, IReadOnlyList<string> labels);

    /// <summary>The shape of a head's outputs for a batch.</summary>
    /// <param name="batch">Batch size.</param>
    /// <param name="length">Sequence length.</param>
    /// <param name="outputSize">The task's <see cref="TaskDescriptor.OutputSize"/>.</param>
    /// <returns>The shape.</returns>
    public abstract long[] OutputShape(long batch, long length, int outputSize);

    /// <summary>All-zero targets of the documented shape and type, for a dry batch.</summary>
    /// <param name="batch">Batch size.</param>
    /// <param name="length">Sequence length.</param>
    /// <param name="outputSize">The task's <see cref="TaskDescriptor.OutputSize"/>.</param>
    /// <returns>The targets, on the CPU.</returns>
    public abstract Tensor DryTargets(int batch, int length, int outputSize);

    /// <summary>Reads one JSON Lines example.</summary>
    /// <param name="line">The line's object and the reader's checks.</param>
    /// <param name="source">Where the line is, for the example.</param>
    /// <param name="problem">Why the line is bad, when it is.</param>
    /// <returns>The example, or <see langword="null"/> with <paramref name="problem"/> set.</returns>
    public abstract TaskExample? Read(JsonLineFields line, string source, out string? problem);

    /// <summary>The labels a kind that needs at least <paramref name="minimum"/> of them is short of, or <see langword="null"/>.</summary>
    /// <param name="descriptor">The task.</param>
    /// <param name="labels">Its labels.</param>
    /// <param name="minimum">Fewest labels the kind can learn from.</param>
    /// <returns>The problem, or <see langword="null"/>.</returns>
    protected static string? AtLeast(TaskDescriptor descriptor, IReadOnlyList<string> labels, int minimum) =>
        labels.Count < minimum ? $"task '{descriptor.Id}' is {descriptor.Kind} and needs at least {minimum} labels, but has {labels.Count}." : null;
}
