using MtlHost.Abstractions;
using MtlHost.Abstractions.Kinds;
using MtlHost.Core.Data;
using MtlHost.Core.Inference;
using static TorchSharp.torch;

namespace MtlHost.Core.Kinds;

/// <summary>
/// What the host does with the tasks of one <see cref="TaskKind"/>: turn an example's label into targets, collate the
/// targets of a batch, count the training labels, build the trivial baseline's outputs, decode a head's outputs into
/// predictions and describe the SDK's head of the kind for an export. One subclass per kind; <see cref="For"/> is the
/// only place that maps the SDK's enum to one, so adding a kind means adding a class, not finding every switch.
/// </summary>
/// <remarks>
/// The kind's data and shape rules that plugins see (JSON Lines fields, labels, output and target shapes) live in the
/// SDK beside the enum (<c>TaskKindContract</c>), because the SDK's reader and the plugin validator need them and cannot
/// see this assembly; a handler takes its output shapes from there.
/// </remarks>
public abstract class TaskKindHandler
{
    /// <summary>The tensors of the SDK's classification heads (<c>ClassificationHead</c>), in ordinal order.</summary>
    protected static readonly string[] ClassifierTensors = ["classifier.bias", "classifier.weight"];

    // What every description of an SDK head starts with: where its input comes from.
    private const string HiddenStates =
        "h = BertModel(input_ids, attention_mask, token_type_ids).last_hidden_state [B, T, H]; dropout is off at inference. ";

    private static readonly TaskKindHandler[] Handlers =
    [
        new SequenceClassificationHandler(),
        new PairClassificationHandler(),
        new MultiLabelClassificationHandler(),
        new TokenClassificationHandler(),
        new RegressionHandler(),
    ];

    /// <summary>The kind.</summary>
    public abstract TaskKind Kind { get; }

    /// <summary>The kind's short name in <c>mtlhost predict</c>'s table.</summary>
    public abstract string ShortName { get; }

    /// <summary>How the kind's examples are tokenized.</summary>
    public abstract InputEncoding Input { get; }

    /// <summary>How the kind's input is tokenized, in an export's words.</summary>
    public abstract string ExportInput { get; }

    /// <summary>The handler of <paramref name="kind"/>.</summary>
    /// <param name="kind">A defined kind.</param>
    /// <returns>Its handler.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="kind"/> is not a defined <see cref="TaskKind"/>.</exception>
    public static TaskKindHandler For(TaskKind kind) =>
        Handlers.FirstOrDefault(h => h.Kind == kind) ?? throw new ArgumentOutOfRangeException(nameof(kind), kind, "Not a defined task kind.");

    /// <summary>The handler of a kind given by name, as checkpoints and predictions write it.</summary>
    /// <param name="name">A <see cref="TaskKind"/> member's name.</param>
    /// <returns>Its handler, or <see langword="null"/> when no kind has that name.</returns>
    public static TaskKindHandler? Named(string name) => Handlers.FirstOrDefault(h => string.Equals(h.Kind.ToString(), name, StringComparison.Ordinal));

    /// <summary>The shape of a head's outputs for a batch, as the SDK documents it for the kind.</summary>
    /// <param name="batch">Batch size.</param>
    /// <param name="length">Sequence length.</param>
    /// <param name="outputSize">Outputs per position.</param>
    /// <returns>The shape.</returns>
    public long[] OutputShape(long batch, long length, int outputSize) => TaskKindContract.For(Kind).OutputShape(batch, length, outputSize);

    /// <summary>Tokenizes an example and turns its label into the kind's target member.</summary>
    /// <param name="example">The raw example.</param>
    /// <param name="encoder">The task's encoder: the tokenizer, the maximum length and the task's labels.</param>
    /// <returns>Token ids and target.</returns>
    /// <exception cref="TaskDataException">The example lacks what the kind needs, or names an unknown label.</exception>
    public abstract EncodedExample Encode(TaskExample example, ExampleEncoder encoder);

    /// <summary>The targets of a batch, shaped and typed as the SDK documents them for the kind.</summary>
    /// <param name="examples">The examples; at least one.</param>
    /// <param name="length">The batch's padded length.</param>
    /// <param name="device">Where the tensor goes.</param>
    /// <returns>The targets.</returns>
    public abstract Tensor CollateTargets(IReadOnlyList<EncodedExample> examples, int length, Device device);

    /// <summary>What a task's parts may adapt to (<see cref="ITrainingSplitAware"/>): how often each label occurs in the training split.</summary>
    /// <param name="train">The encoded training split.</param>
    /// <param name="labelCount">The task's number of labels.</param>
    /// <returns>The summary.</returns>
    public TrainingSplitSummary Summarize(IReadOnlyList<EncodedExample> train, int labelCount) => new(train.Count, CountLabels(train, labelCount));

    /// <summary>
    /// The outputs of the trivial predictor, which always predicts what is most frequent in the training split, for a
    /// batch whose targets are <paramref name="targets"/>.
    /// </summary>
    /// <param name="train">The encoded training split; not empty.</param>
    /// <param name="outputSize">The task's outputs per position.</param>
    /// <param name="targets">The targets of the batch to score, on the CPU.</param>
    /// <returns>Outputs of the head's shape, for the task's own metric.</returns>
    public abstract Tensor BaselineOutputs(IReadOnlyList<EncodedExample> train, int outputSize, Tensor targets);

    /// <summary>The head's outputs as what predictions report: probabilities for classification kinds, the values themselves for regression.</summary>
    /// <param name="outputs">The outputs, float32 on the CPU.</param>
    /// <returns>The probabilities.</returns>
    public abstract Tensor Probabilities(Tensor outputs);

    /// <summary>Decodes one row of a batch's probabilities.</summary>
    /// <param name="prediction">The row's prediction with only the task and kind set.</param>
    /// <param name="probabilities">The batch's <see cref="Probabilities"/>, flattened.</param>
    /// <param name="row">The row.</param>
    /// <param name="length">The batch's sequence length (token kinds).</param>
    /// <param name="labels">The task's labels.</param>
    /// <param name="alignments">The words of each row (token kinds); <see langword="null"/> otherwise.</param>
    /// <returns>The prediction.</returns>
    /// <exception cref="ArgumentException">The kind needs <paramref name="alignments"/> and they are missing.</exception>
    public abstract TaskPrediction Decode(TaskPrediction prediction, float[] probabilities, int row, int length, IReadOnlyList<string> labels,
        IReadOnlyList<WordAlignment>? alignments);

    /// <summary>How the SDK's head of the kind computes its outputs, when <paramref name="tensorNames"/> are that head's tensors.</summary>
    /// <param name="tensorNames">The head's tensor names, in ordinal order.</param>
    /// <returns>The forward pass in Python terms, or <see langword="null"/> when the head is a plugin's own design.</returns>
    /// <remarks>A checkpoint records a head's tensors but not its type, so the SDK's head is known by its tensors.</remarks>
    public abstract string? DescribeHead(IReadOnlyList<string> tensorNames);

    /// <summary>The description of the SDK's head of a kind, when a head's tensors are that head's.</summary>
    /// <param name="tensorNames">The head's tensor names, in ordinal order.</param>
    /// <param name="sdkTensors">The SDK head's tensor names, in ordinal order.</param>
    /// <param name="forward">How the SDK head computes its outputs from <c>h</c>.</param>
    /// <returns>The description, or <see langword="null"/> when the tensors differ.</returns>
    protected static string? SdkHead(IReadOnlyList<string> tensorNames, IReadOnlyList<string> sdkTensors, string forward) =>
        tensorNames.SequenceEqual(sdkTensors) ? HiddenStates + forward : null;

    /// <summary>How often each label occurs in <paramref name="train"/>.</summary>
    /// <param name="train">The encoded training split.</param>
    /// <param name="labelCount">The task's number of labels.</param>
    /// <returns>One count per label.</returns>
    protected abstract long[] CountLabels(IReadOnlyList<EncodedExample> train, int labelCount);
}
