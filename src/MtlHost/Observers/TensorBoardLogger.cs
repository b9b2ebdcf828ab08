using Microsoft.Extensions.Logging;
using MtlHost.Core.Training;
using TorchSharp;
using TorchSharp.Modules;

namespace MtlHost.Observers;

/// <summary>
/// Writes a run's per-task scalars as TensorBoard event files (TorchSharp's <c>SummaryWriter</c>) in
/// <c>&lt;out&gt;/tensorboard</c>: each step's loss and weight of every task trained and the learning rate,
/// and every validation score. <c>tensorboard --logdir &lt;out&gt;/tensorboard</c> shows them.
/// </summary>
public sealed class TensorBoardLogger : IDisposable
{
    /// <summary>The folder under the run folder that holds the event files.</summary>
    public const string FolderName = "tensorboard";

    private readonly JointTrainer _trainer;
    private readonly SummaryWriter _writer;
    private readonly ILogger _logger;

    /// <summary>Starts logging the trainer's steps and evaluations.</summary>
    /// <param name="outDirectory">The run folder.</param>
    /// <param name="trainer">The trainer whose events to log.</param>
    /// <param name="logger">Told once if the event file cannot be written; the run goes on without it.</param>
    public TensorBoardLogger(string outDirectory, JointTrainer trainer, ILogger logger)
    {
        _logger = logger;
        Directory = Path.Combine(outDirectory, FolderName);
        System.IO.Directory.CreateDirectory(Directory);
        _writer = torch.utils.tensorboard.SummaryWriter(Directory);
        _trainer = trainer;
        _trainer.StepCompleted += OnStep;
        _trainer.Evaluated += OnEvaluation;
    }

    /// <summary>The folder of the event files.</summary>
    public string Directory { get; }

    /// <summary>Tag of a task's training loss.</summary>
    /// <param name="taskId">The task.</param>
    /// <returns>The tag.</returns>
    public static string LossTag(string taskId) => $"loss/{taskId}";

    /// <summary>Tag of a task's loss weight.</summary>
    /// <param name="taskId">The task.</param>
    /// <returns>The tag.</returns>
    public static string WeightTag(string taskId) => $"weight/{taskId}";

    /// <summary>Tag of a validation score (or the validation loss, score <c>loss</c>).</summary>
    /// <param name="taskId">The task.</param>
    /// <param name="score">The score's name.</param>
    /// <returns>The tag.</returns>
    public static string ValidationTag(string taskId, string score) => $"validation/{taskId}/{score}";

    /// <summary>Tag of the encoder's learning rate.</summary>
    public const string LearningRateTag = "learning_rate";

    /// <inheritdoc />
    public void Dispose()
    {
        _trainer.StepCompleted -= OnStep;
        _trainer.Evaluated -= OnEvaluation;
    }

    private void OnStep(TrainingStepRecord record) => Write(() =>
    {
        // TensorBoard's step axis is the step the values belong to, so step 1 is the first step taken.
        _writer.add_scalar(LearningRateTag, (float)record.LearningRate, record.Step);
        foreach (var task in record.Tasks)
        {
            _writer.add_scalar(LossTag(task.TaskId), (float)task.Loss, record.Step);
            _writer.add_scalar(WeightTag(task.TaskId), (float)task.Weight, record.Step);
        }
    });

    private void OnEvaluation(int step, IReadOnlyList<TaskScores> scores) => Write(() =>
    {
        foreach (var task in scores)
        {
            _writer.add_scalar(ValidationTag(task.TaskId, "loss"), (float)task.Loss, step);
            foreach (var (name, value) in task.Scores.Where(s => double.IsFinite(s.Value)))
            {
                _writer.add_scalar(ValidationTag(task.TaskId, name), (float)value, step);
            }
        }
    });

    // A full disk or a removed folder must not end a days-long run: the curves stop, training goes on.
    private void Write(Action write)
    {
        try
        {
            write();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Dispose();
            _logger.LogWarning("TensorBoard logging stopped: {Directory} cannot be written ({Reason}); training goes on", Directory, e.Message);
        }
    }
}
