using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using MtlHost.Formats;
using MtlHost.Cli;
using MtlHost.Core.Checkpoints;
using MtlHost.Core.Inference;
using MtlHost.Core.Kinds;
using MtlHost.Hosting;
using MtlHost.Inference;
using MtlHost.Inference.Onnx;

namespace MtlHost.Commands;

/// <summary>
/// <c>mtlhost predict</c>: loads a checkpoint with the plugins it was trained with and prints every task's prediction
/// for one text (or one task's with <c>--task</c>), with scores; <c>--json</c> prints one JSON object instead. With
/// <c>--onnx DIR</c> the predictions come from an ONNX export run by ONNX Runtime, with no plugin and no torch.
/// </summary>
public sealed class PredictCommand
{
    private readonly IConfiguration _configuration;
    private readonly ParsedCommand _command;
    private readonly ILogger _logger;

    /// <summary>Creates the command.</summary>
    /// <param name="configuration">Layered configuration (for the plugins folder).</param>
    /// <param name="command">The parsed command line.</param>
    /// <param name="loggerFactory">Logging.</param>
    public PredictCommand(IConfiguration configuration, ParsedCommand command, ILoggerFactory loggerFactory)
    {
        _configuration = configuration;
        _command = command;
        _logger = loggerFactory.CreateLogger("MtlHost.Predict");
    }

    /// <summary>Runs the command.</summary>
    /// <param name="output">Where the predictions go.</param>
    /// <returns>The exit code.</returns>
    /// <exception cref="UsageException">A required option is missing, the checkpoint or its plugins cannot be used, or the task is unknown.</exception>
    public int Run(TextWriter output)
    {
        var onnx = _command.Get("onnx");
        var checkpoint = _command.Get("checkpoint");
        if (onnx is not null && checkpoint is not null)
        {
            throw new UsageException("mtlhost predict: give --checkpoint DIR (TorchSharp, with the plugins) or --onnx DIR (ONNX Runtime, an 'export --format onnx' folder), not both.");
        }
        if (onnx is null && checkpoint is null)
        {
            throw new UsageException("mtlhost predict: --checkpoint DIR is required: the checkpoint folder of a training run (<run>/checkpoint); " +
                                     "or --onnx DIR, a folder 'mtlhost export --format onnx' wrote.");
        }
        var text = _command.Get("text") ?? throw new UsageException("mtlhost predict: --text TEXT is required: the text to predict on.");
        var pair = _command.Get("pair");
        var taskId = _command.Get("task");
        if (onnx is not null)
        {
            return RunOnnx(onnx, text, pair, taskId, output);
        }
        var plugins = HostSettings.ResolvePluginsDirectory(_configuration);

        MultiTaskPredictor predictor;
        try
        {
            predictor = MultiTaskPredictor.Load(checkpoint!, plugins, _logger);
        }
        catch (CheckpointException e)
        {
            throw new UsageException($"mtlhost predict: {e.Message}");
        }
        using (predictor)
        {
            var response = Predict(() => predictor.Predict([new PredictionInput(text, pair)], taskId)[0]);
            var notes = response.Notes.Concat(predictor.Unavailable.Select(u => $"task '{u.Key}' cannot be predicted: {u.Value}")).ToList();
            var json = new { checkpoint = predictor.CheckpointDirectory, step = response.Step, encoder = predictor.EncoderName, text, pair, tasks = response.Tasks, notes };
            return Print(output, $"checkpoint {predictor.CheckpointDirectory} (step {response.Step}, encoder {predictor.EncoderName})", response, notes, json);
        }
    }

    // The same predictions from an ONNX export, by ONNX Runtime: no plugin, no torch.
    private int RunOnnx(string directory, string text, string? pair, string? taskId, TextWriter output)
    {
        OnnxMultiTaskPredictor predictor;
        try
        {
            predictor = OnnxMultiTaskPredictor.Load(directory, new OnnxPredictorOptions { IntraOpThreads = TorchThreads.Read(_configuration) ?? 0 });
        }
        catch (InvalidDataException e)
        {
            throw new UsageException($"mtlhost predict: {e.Message}");
        }
        using (predictor)
        {
            var response = Predict(() => predictor.Predict([new PredictionInput(text, pair)], taskId)[0]);
            var notes = response.Notes.Concat(predictor.Unavailable.Select(u => $"task '{u.Key}' cannot be predicted: {u.Value}")).ToList();
            var description = predictor.Description;
            var json = new
            {
                onnx = predictor.Directory, quantization = description.Quantization, checkpoint = description.Checkpoint, step = response.Step,
                encoder = description.Encoder, text, pair, tasks = response.Tasks, notes,
            };
            return Print(output, $"onnx export {predictor.Directory} ({description.Quantization switch { "int8" => "int8", _ => "fp32" }}; checkpoint step {response.Step}, " +
                                 $"encoder {description.Encoder})", response, notes, json);
        }
    }

    private static PredictionResponse Predict(Func<PredictionResponse> predict)
    {
        try
        {
            return predict();
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"mtlhost predict: {e.Message}");
        }
    }

    private int Print(TextWriter output, string header, PredictionResponse response, IReadOnlyList<string> notes, object json)
    {
        if (_command.Has("json"))
        {
            output.WriteLine(JsonSerializer.Serialize(json, HostJson.Options));
            return MtlHostApplication.Success;
        }

        output.WriteLine(header);
        var rows = response.Tasks.Select(t => (t.TaskId, Kind: ShortKind(t.Kind), Prediction: PredictionText(t), Scores: ScoresText(t))).ToList();
        if (rows.Count > 0)
        {
            var idWidth = Math.Max(4, rows.Max(r => r.TaskId.Length));
            var kindWidth = Math.Max(4, rows.Max(r => r.Kind.Length));
            var predictionWidth = Math.Min(40, Math.Max(10, rows.Max(r => r.Prediction.Length)));
            output.WriteLine($"{"task".PadRight(idWidth)}  {"kind".PadRight(kindWidth)}  {"prediction".PadRight(predictionWidth)}  scores");
            foreach (var row in rows)
            {
                output.WriteLine($"{row.TaskId.PadRight(idWidth)}  {row.Kind.PadRight(kindWidth)}  {row.Prediction.PadRight(predictionWidth)}  {row.Scores}".TrimEnd());
            }
        }
        foreach (var note in notes)
        {
            output.WriteLine($"note: {note}");
        }
        return MtlHostApplication.Success;
    }

    private static string ShortKind(string kind) => TaskKindHandler.Named(kind)?.ShortName ?? kind;

    private static string PredictionText(TaskPrediction prediction) =>
        prediction.Label
        ?? (prediction.Labels is { } labels ? LabelList(labels) : null)
        ?? (prediction.Value is { } value ? value.ToString("0.####", CultureInfo.InvariantCulture) : null)
        ?? string.Join(" ", prediction.Words?.Select(w => $"{w.Word}/{w.Label ?? "-"}") ?? []);

    // A long label set would push the scores off the screen; --json has all of them.
    private static string LabelList(IReadOnlyList<string> labels) => labels.Count switch
    {
        0 => "(none)",
        <= 3 => string.Join(", ", labels),
        _ => $"{string.Join(", ", labels.Take(3))} (+{labels.Count - 3} more)",
    };

    private static string ScoresText(TaskPrediction prediction) =>
        string.Join(", ", prediction.Scores.Take(3).Select(s => $"{s.Key} {s.Value.ToString("0.000", CultureInfo.InvariantCulture)}"));
}
