using Microsoft.Extensions.DependencyInjection;
using MtlHost.Cli;
using MtlHost.Commands;
using MtlHost.Core.Training;
using MtlHost.Hosting;
using MtlHost.Runs;

namespace MtlHost.Tests.Checkpoints;

/// <summary>
/// Runs <c>mtlhost train</c> in-process as the worker service does (subscribed to its <see cref="TrainingRun"/>), recording every
/// step's per-task losses, and optionally crashing the run — an exception between two steps, so that no
/// checkpoint is written at shutdown, as with kill -9.
/// </summary>
public sealed class TrainRun
{
    /// <summary>Loss of each task at each step, keyed "step/task" (step counted from 1).</summary>
    public SortedDictionary<string, double> Losses { get; } = new(StringComparer.Ordinal);

    /// <summary>The steps run by this process, in order.</summary>
    public List<int> Steps { get; } = [];

    /// <summary>The exit code, or <see langword="null"/> when the run crashed.</summary>
    public int? ExitCode { get; private set; }

    /// <summary>Standard output.</summary>
    public string Output { get; private set; } = "";

    /// <summary>Runs train with <paramref name="args"/> (after the verb).</summary>
    /// <param name="crashBeforeStep">Throws <see cref="SimulatedCrash"/> before this step (counted from 1), or never.</param>
    /// <param name="args">The options.</param>
    /// <returns>What happened.</returns>
    public static TrainRun Of(int? crashBeforeStep, params string[] args)
    {
        var run = new TrainRun();
        JointTrainer? trainer = null;
        using var host = HostFactory.Build(CommandLine.Parse(["train", .. args]));
        var command = host.Services.GetRequiredService<TrainCommand>();
        var training = command.CreateRun();
        training.Started += context =>
        {
            trainer = context.Trainer;
            context.Trainer.StepCompleted += record =>
            {
                run.Steps.Add(record.Step);
                foreach (var task in record.Tasks)
                {
                    run.Losses[$"{record.Step:D4}/{task.TaskId}"] = task.Loss;
                }
            };
        };
        training.BetweenSteps += () =>
        {
            if (trainer!.Step + 1 == crashBeforeStep)
            {
                throw new SimulatedCrash();
            }
        };
        var output = new StringWriter();
        try
        {
            run.ExitCode = command.Report(training.Run(CancellationToken.None), output);
        }
        catch (SimulatedCrash)
        {
            run.ExitCode = null;
        }
        run.Output = output.ToString();
        return run;
    }

    /// <summary>Thrown between two steps to stop a run without any shutdown work.</summary>
    public sealed class SimulatedCrash : Exception;
}
