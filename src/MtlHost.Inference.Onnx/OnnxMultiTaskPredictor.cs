using Microsoft.ML.OnnxRuntime;
using MtlHost.Core.Inference;
using MtlHost.Core.Tokenization;
using MtlHost.Predictions;
using MtlHost.Predictions.Onnx;

namespace MtlHost.Inference.Onnx;

/// <summary>
/// Predicts every task of an <c>mtlhost export --format onnx</c> folder with ONNX Runtime: the inputs are tokenized as
/// training tokenized them, the model runs once over every row they need, and each task's output is decoded as
/// <c>mtlhost predict</c> decodes it, into the same <see cref="PredictionResponse"/>s.
/// </summary>
/// <remarks>
/// Thread-safe: ONNX Runtime sessions may run concurrently, and nothing else changes after loading. As an
/// <see cref="IMultiTaskPredictor"/> it serves <c>mtlhost serve --onnx</c> through the host's request batcher.
/// </remarks>
public sealed class OnnxMultiTaskPredictor : IMultiTaskPredictor
{
    private readonly InferenceSession _session;
    private readonly BertWordPieceTokenizer _tokenizer;
    private readonly IReadOnlyDictionary<string, string> _unavailable;

    private OnnxMultiTaskPredictor(string directory, OnnxModelDescription description, InferenceSession session, BertWordPieceTokenizer tokenizer)
    {
        Directory = directory;
        Description = description;
        _session = session;
        _tokenizer = tokenizer;
        _unavailable = description.NotExported.ToDictionary(t => t.Id, t => $"it is not in the ONNX export: {t.Reason}.", StringComparer.Ordinal);
    }

    /// <summary>The export folder, absolute.</summary>
    public string Directory { get; }

    /// <summary>What the export holds: checkpoint, step, encoder, quantization, tasks.</summary>
    public OnnxModelDescription Description { get; }

    /// <summary>The tasks that can be predicted, in id order.</summary>
    public IReadOnlyList<OnnxTaskOutput> Tasks => Description.Tasks;

    /// <summary>Tasks of the checkpoint that the export left out, by id, with the reason.</summary>
    public IReadOnlyDictionary<string, string> Unavailable => _unavailable;

    /// <inheritdoc />
    int IMultiTaskPredictor.Step => Description.Step;

    /// <inheritdoc />
    string IMultiTaskPredictor.ModelDirectory => Directory;

    /// <summary>Loads an export folder.</summary>
    /// <param name="directory">The folder <c>mtlhost export --format onnx --out DIR</c> wrote.</param>
    /// <param name="options">Session options; <see langword="null"/> for the defaults.</param>
    /// <returns>The predictor.</returns>
    /// <exception cref="InvalidDataException">The folder is not an ONNX export, or its model or vocabulary is missing or unreadable.</exception>
    public static OnnxMultiTaskPredictor Load(string directory, OnnxPredictorOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        options ??= new OnnxPredictorOptions();
        var full = Path.GetFullPath(directory);
        if (!System.IO.Directory.Exists(full))
        {
            throw new InvalidDataException($"ONNX export folder '{full}' does not exist; write one with 'mtlhost export --format onnx --checkpoint DIR --out DIR'.");
        }
        var description = OnnxModelDescription.Read(full);
        var vocabulary = Require(full, description.Vocabulary, "vocabulary");
        var model = Require(full, description.Model, "model");
        BertWordPieceTokenizer tokenizer;
        using (var stream = File.OpenRead(vocabulary))
        {
            tokenizer = BertWordPieceTokenizer.FromVocabulary(stream);
        }
        using var sessionOptions = new SessionOptions
        {
            IntraOpNumThreads = options.IntraOpThreads,
            // One graph, run node after node: threads go to each node's kernel, none to running branches side by side.
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        InferenceSession session;
        try
        {
            session = new InferenceSession(model, sessionOptions);
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidDataException($"ONNX Runtime cannot load '{model}' ({e.Message}); export the checkpoint again.", e);
        }
        var missing = description.Tasks.Where(t => !session.OutputMetadata.ContainsKey(t.Output)).Select(t => t.Output).ToList();
        if (missing.Count > 0)
        {
            session.Dispose();
            throw new InvalidDataException($"'{model}' has no output {string.Join(", ", missing)} that {OnnxModelDescription.FileName} names; export the checkpoint again.");
        }
        return new OnnxMultiTaskPredictor(full, description, session, tokenizer);
    }

    /// <summary>Predicts a batch of inputs: one model run for all of them and every task.</summary>
    /// <param name="inputs">The inputs.</param>
    /// <param name="taskId">
    /// One task to predict, by id (any state); <see langword="null"/> for every task that was training at checkpoint time.
    /// Pair-classification tasks are predicted for inputs with a <see cref="PredictionInput.Pair"/> and noted as skipped for the others.
    /// </param>
    /// <returns>One response per input, in input order, as the TorchSharp predictor gives it.</returns>
    /// <exception cref="ArgumentException">
    /// The task is not in the export (the message lists the tasks), or is a pair task and an input has no second text; or an input's text is empty.
    /// </exception>
    public IReadOnlyList<PredictionResponse> Predict(IReadOnlyList<PredictionInput> inputs, string? taskId = null)
    {
        var tasks = Check(inputs, taskId);
        if (inputs.Count == 0)
        {
            return [];
        }
        var rows = new PredictionRows(inputs, tasks.Select(t => t.Kind).Distinct().ToList(), _tokenizer, Description.MaxLength);
        var outputs = Run(rows, tasks.Select(t => t.Output));
        var perInput = Enumerable.Range(0, inputs.Count).Select(_ => new List<TaskPrediction>()).ToArray();
        var notes = Enumerable.Range(0, inputs.Count).Select(_ => new List<string>()).ToArray();
        foreach (var task in tasks)
        {
            var rowOf = rows.RowsOf(task.Kind);
            for (var i = 0; i < inputs.Count; i++)
            {
                if (rowOf[i] < 0)
                {
                    notes[i].Add($"task '{task.Id}' skipped: pair classification needs a second text (--pair TEXT, or \"pair\" in the request).");
                    continue;
                }
                perInput[i].Add(OutputDecoder.Decode(task.Id, task.Kind, task.Labels, outputs[task.Output].Row(rowOf[i]), rows.AlignmentOf(i)));
            }
        }
        return Enumerable.Range(0, inputs.Count).Select(i => new PredictionResponse(Description.Step, perInput[i]) { Notes = notes[i] }).ToList();
    }

    /// <summary>Runs the model over encoded rows and returns the outputs asked for, undecoded (logits and values).</summary>
    /// <param name="rows">The rows (see <see cref="PredictionRows"/>).</param>
    /// <param name="outputNames">Model outputs (<see cref="OnnxTaskOutput.Output"/>).</param>
    /// <returns>Each output by name, over every row.</returns>
    public IReadOnlyDictionary<string, OnnxOutput> Run(PredictionRows rows, IEnumerable<string> outputNames)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var names = outputNames.Distinct().ToList();
        if (rows.Rows.Count == 0 || names.Count == 0)
        {
            return new Dictionary<string, OnnxOutput>();
        }
        var (ids, types, mask) = rows.Collate();
        long[] shape = [rows.Rows.Count, rows.Length];
        using var inputIds = OrtValue.CreateTensorValueFromMemory(ids, shape);
        using var attentionMask = OrtValue.CreateTensorValueFromMemory(mask, shape);
        using var tokenTypeIds = OrtValue.CreateTensorValueFromMemory(types, shape);
        using var runOptions = new RunOptions();
        using var results = _session.Run(runOptions,
            ["input_ids", "attention_mask", "token_type_ids"], [inputIds, attentionMask, tokenTypeIds], names);
        var outputs = new Dictionary<string, OnnxOutput>(StringComparer.Ordinal);
        for (var i = 0; i < names.Count; i++)
        {
            var value = results[i];
            outputs[names[i]] = new OnnxOutput(value.GetTensorDataAsSpan<float>().ToArray(), value.GetTensorTypeAndShape().Shape);
        }
        return outputs;
    }

    /// <summary>Encodes inputs for the given tasks as <see cref="Predict"/> does, for <see cref="Run"/>.</summary>
    /// <param name="inputs">The inputs.</param>
    /// <param name="tasks">The tasks whose kinds decide the rows.</param>
    /// <returns>The rows.</returns>
    public PredictionRows Encode(IReadOnlyList<PredictionInput> inputs, IEnumerable<OnnxTaskOutput> tasks) =>
        new(inputs, tasks.Select(t => t.Kind).Distinct().ToList(), _tokenizer, Description.MaxLength);

    /// <summary>Releases the ONNX Runtime session.</summary>
    public void Dispose() => _session.Dispose();

    /// <inheritdoc />
    void IMultiTaskPredictor.Validate(IReadOnlyList<PredictionInput> inputs, string? taskId) => Check(inputs, taskId);

    private List<OnnxTaskOutput> Check(IReadOnlyList<PredictionInput> inputs, string? taskId)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var selected = Select(taskId);
        for (var i = 0; i < inputs.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(inputs[i]?.Text))
            {
                throw new ArgumentException(inputs.Count == 1 ? "The text is empty; give a text to predict on." : $"Input {i}: the text is empty; give a text to predict on.");
            }
            if (taskId is not null && selected[0].Kind == TaskKindNames.PairClassification && string.IsNullOrWhiteSpace(inputs[i].Pair))
            {
                throw new ArgumentException(
                    $"Task '{taskId}' is pair classification: it needs a second text (--pair TEXT, or \"pair\" in the request).");
            }
        }
        return selected;
    }

    private List<OnnxTaskOutput> Select(string? taskId)
    {
        if (taskId is null)
        {
            return Tasks.Where(t => t.State == TrainingState).ToList();
        }
        var task = Tasks.FirstOrDefault(t => t.Id == taskId);
        if (task is not null)
        {
            return [task];
        }
        if (_unavailable.TryGetValue(taskId, out var reason))
        {
            throw new ArgumentException($"Task '{taskId}' of the checkpoint cannot be predicted: {reason}");
        }
        throw new ArgumentException(
            $"Unknown task '{taskId}'; the export's tasks are {string.Join(", ", Tasks.Select(t => t.State == TrainingState ? t.Id : $"{t.Id} ({t.State})"))}.");
    }

    private const string TrainingState = "Training";

    private static string Require(string directory, string relative, string what)
    {
        var path = Path.Combine(directory, relative);
        if (!File.Exists(path))
        {
            throw new InvalidDataException($"The {what} file '{path}' of the ONNX export is missing; export the checkpoint again.");
        }
        return path;
    }
}
