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

namespace MtlHost.Commands;

/// <summary>
/// <c>mtlhost predict</c>: loads a checkpoint with the plugins it was trained with and prints every task's prediction
/// for one text (or one task's with <c>--task</c>), with scores; <c>--json</c> prints one JSON object instead.
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
        var checkpoint = _command.Get("checkpoint")
                         ?? throw new UsageException("mtlhost predict: --checkpoint DIR is required: the checkpoint folder of a training run (<run>/checkpoint).");
        var text = _command.Get("text") ?? throw new UsageException("mtlhost predict: --text TEXT is required: the text to predict on.");
        var pair = _command.Get("pair");
        var taskId = _command.Get("task");
        var plugins = HostSettings.ResolvePluginsDirectory(_configuration);

        MultiTaskPredictor predictor;
        try
        {
            predictor = MultiTaskPredictor.Load(checkpoint, plugins, _logger);
        }
        catch (CheckpointException e)
        {
            throw new UsageException($"mtlhost predict: {e.Message}");
        }
        using (predictor)
        {
            PredictionResponse response;
            try
            {
                response = predictor.Predict([new PredictionInput(text, pair)], taskId)[0];
            }
            catch (ArgumentException e)
            {
                throw new UsageException($"mtlhost predict: {e.Message}");
            }
            var notes = response.Notes.Concat(predictor.Unavailable.Select(u => $"task '{u.Key}' cannot be predicted: {u.Value}")).ToList();
            if (_command.Has("json"))
            {
                output.WriteLine(JsonSerializer.Serialize(new
                {
                    checkpoint = predictor.CheckpointDirectory,
                    step = response.Step,
                    encoder = predictor.EncoderName,
                    text,
                    pair,
                    tasks = response.Tasks,
                    notes,
                }, HostJson.Options));
                return MtlHostApplication.Success;
            }

            output.WriteLine($"checkpoint {predictor.CheckpointDirectory} (step {response.Step}, encoder {predictor.EncoderName})");
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
