using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using MtlHost.Eval;
using MtlHost.Abstractions;
using MtlHost.Cli;
using MtlHost.Core.Checkpoints;
using MtlHost.Formats;
using MtlHost.Hosting;

namespace MtlHost.Commands;

/// <summary>
/// <c>mtlhost eval</c>: scores every task of a checkpoint on its validation (or <c>--split test</c>) data with the metrics
/// and trivial baseline training reports, and prints them as training's table does; <c>--json</c> prints one JSON object.
/// </summary>
public sealed class EvalCommand
{
    private readonly IConfiguration _configuration;
    private readonly ParsedCommand _command;
    private readonly ILogger _logger;

    /// <summary>Creates the command.</summary>
    /// <param name="configuration">Layered configuration (the plugins folder, the evaluation batch size).</param>
    /// <param name="command">The parsed command line.</param>
    /// <param name="loggerFactory">Logging.</param>
    public EvalCommand(IConfiguration configuration, ParsedCommand command, ILoggerFactory loggerFactory)
    {
        _configuration = configuration;
        _command = command;
        _logger = loggerFactory.CreateLogger("MtlHost.Eval");
    }

    /// <summary>Runs the command.</summary>
    /// <param name="output">Where the results go.</param>
    /// <returns>0, or 1 when a task's plugin code failed.</returns>
    /// <exception cref="UsageException">
    /// <c>--checkpoint</c> is missing; the checkpoint is missing, incomplete or malformed; or a task it trained cannot be
    /// rebuilt from the plugins folder.
    /// </exception>
    public int Run(TextWriter output)
    {
        var checkpoint = _command.Get("checkpoint")
                         ?? throw new UsageException("mtlhost eval: --checkpoint DIR is required: the checkpoint folder of a training run (<run>/checkpoint or <run>/best).");
        // The command line has checked the name against CommandLine.EvalSplits.
        var split = Enum.Parse<DataSplit>(_command.Get("split") ?? "validation", ignoreCase: true);
        var plugins = HostSettings.ResolvePluginsDirectory(_configuration);
        CheckpointEvaluation evaluation;
        try
        {
            evaluation = CheckpointEvaluator.Evaluate(checkpoint, plugins, split, EvalBatchSize(), _logger);
        }
        catch (CheckpointException e)
        {
            throw new UsageException($"mtlhost eval: {e.Message}");
        }

        if (_command.Has("json"))
        {
            output.WriteLine(JsonSerializer.Serialize(evaluation, HostJson.Options));
        }
        else
        {
            EvaluationTable.Write(output, evaluation);
        }
        return evaluation.AnyFailed ? MtlHostApplication.RunFailed : MtlHostApplication.Success;
    }

    // Training evaluates in batches of this size; the same size gives the same numbers to the last digit.
    private int EvalBatchSize()
    {
        var value = _configuration["Training:EvalBatchSize"];
        if (string.IsNullOrWhiteSpace(value))
        {
            return new Core.Training.TrainingOptions().EvalBatchSize;
        }
        return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var size) && size >= 1
            ? size
            : throw new UsageException($"Training:EvalBatchSize must be a whole number of at least 1, not '{value}'.");
    }
}
