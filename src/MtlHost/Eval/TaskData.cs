using Microsoft.Extensions.Logging;
using MtlHost.Abstractions;
using MtlHost.Abstractions.Messages;
using MtlHost.Core.Checkpoints;
using MtlHost.Core.Data;
using MtlHost.Core.Kinds;
using MtlHost.Core.Tokenization;

namespace MtlHost.Eval;

/// <summary>
/// A task's data for <c>mtlhost eval</c>, read through its dataset adapter and tokenized as the training run did (its
/// seed, its longest sequence): the training split, which the trivial baseline and the loss are fitted to, and the split
/// evaluated on. When it cannot be had, <see cref="Problem"/> says why and <see cref="Outcome"/> what that makes of the task.
/// </summary>
/// <param name="Train">Encoded training examples.</param>
/// <param name="Examples">Encoded examples of the split evaluated on.</param>
/// <param name="Outcome"><see cref="TaskEvaluationOutcome.Evaluated"/> when the data is there, else why not.</param>
/// <param name="Problem">What is wrong, or <see langword="null"/>.</param>
internal sealed record TaskData(IReadOnlyList<EncodedExample> Train, IReadOnlyList<EncodedExample> Examples, TaskEvaluationOutcome Outcome,
    string? Problem)
{
    /// <summary>Reads and tokenizes a task's training split and <paramref name="split"/>.</summary>
    /// <param name="task">The plugin's task.</param>
    /// <param name="entry">The task in the checkpoint.</param>
    /// <param name="dataDirectory">The plugin's folder, where its data ships.</param>
    /// <param name="manifest">The checkpoint's manifest: the run's seed and longest sequence.</param>
    /// <param name="split">The split to evaluate on.</param>
    /// <param name="tokenizer">The shared tokenizer.</param>
    /// <param name="logger">Receives bad data lines.</param>
    /// <returns>The data, or the reason there is none.</returns>
    public static TaskData Read(IMtlTask task, CheckpointManifest.TaskEntry entry, string dataDirectory, CheckpointManifest manifest,
        DataSplit split, BertWordPieceTokenizer tokenizer, ILogger logger)
    {
        var context = new TaskContext(dataDirectory, manifest.Seed,
            problem => logger.LogWarning("Task {Task}: skipped bad data line {Problem}", entry.Id, problem));
        var encoder = new ExampleEncoder(tokenizer, task.Descriptor, manifest.Encoder.MaxLength);
        var splitName = CheckpointEvaluator.SplitName(split);
        ITaskDataset dataset;
        List<EncodedExample> train;
        try
        {
            dataset = task.CreateDataset(context);
            train = dataset.Read(DataSplit.Train).Select(encoder.Encode).ToList();
        }
        catch (Exception e) when (e is TaskDataException or IOException or UnauthorizedAccessException)
        {
            return Missing(TaskEvaluationOutcome.Unavailable, $"its training split, which the trivial baseline and the loss are fitted to, cannot be read: {ExceptionChain.MessageWithCauses(e)}");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return Missing(TaskEvaluationOutcome.Failed, $"its dataset adapter threw {ExceptionChain.Describe(e)}");
        }
        if (train.Count == 0)
        {
            return Missing(TaskEvaluationOutcome.Unavailable, "its training split, which the trivial baseline is fitted to, has no examples");
        }

        List<EncodedExample> examples;
        try
        {
            examples = dataset.Read(split).Select(encoder.Encode).ToList();
        }
        catch (Exception e) when (e is TaskDataException or IOException or UnauthorizedAccessException)
        {
            // A task may ship no test split (or a broken one): that task has nothing to report, the others do.
            return Missing(TaskEvaluationOutcome.NoData, $"no {splitName} data: {ExceptionChain.MessageWithCauses(e)}");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return Missing(TaskEvaluationOutcome.Failed, $"its dataset adapter threw, reading the {splitName} split, {ExceptionChain.Describe(e)}");
        }
        return examples.Count == 0
            ? Missing(TaskEvaluationOutcome.NoData, $"no {splitName} data: the {splitName} split has no examples")
            : new TaskData(train, examples, TaskEvaluationOutcome.Evaluated, null);
    }

    private static TaskData Missing(TaskEvaluationOutcome outcome, string problem) => new([], [], outcome, problem);
}
