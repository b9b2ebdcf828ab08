using System.Text.Json;
using Microsoft.Extensions.Logging;
using MtlHost.Core.Distributed;
using MtlHost.Core.Training;
using MtlHost.Evaluation;
using MtlHost.Formats;
using MtlHost.Hosting;
using TorchSharp;

namespace MtlHost.Runs;

/// <summary>
/// <c>--single-task</c>: each task alone, with the same encoder, seed, steps and settings as a joint run, each in
/// <c>&lt;out&gt;/single-task/&lt;task&gt;</c>; their validation scores become <c>&lt;out&gt;/baselines.json</c> for Δm%.
/// </summary>
internal static class SingleTaskBaselines
{
    /// <summary>Trains each task alone and writes the baselines and a summary of all of them.</summary>
    /// <param name="settings">The settings.</param>
    /// <param name="tasks">The tasks.</param>
    /// <param name="device">Where they train.</param>
    /// <param name="padId">The tokenizer's padding id.</param>
    /// <param name="showProgress">Whether a live progress bar replaces the periodic step lines.</param>
    /// <param name="group">The processes training together; rank 0 alone writes files.</param>
    /// <param name="logger">Logging.</param>
    /// <param name="cancellationToken">Stops after the current step of the current task; the tasks not started are left out.</param>
    /// <returns>The summary; <see langword="null"/> when no task could be trained.</returns>
    public static RunSummary? Train(HostSettings settings, RunTasks tasks, torch.Device device, int padId, bool showProgress, IProcessGroup group,
        ILogger logger, CancellationToken cancellationToken)
    {
        var runs = new List<RunSummary>();
        var summaries = new List<string>();
        foreach (var runtime in tasks.Runtimes)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            logger.LogInformation("Single-task baseline: {Task}", runtime.Id);
            var directory = Path.Combine(settings.OutDirectory, Baselines.SingleTaskFolder, runtime.Id);
            var run = new JointRun(settings, directory, device, padId, showProgress, null, group, logger)
                .Train([runtime], null, [], tasks.Ended, cancellationToken);
            if (run is not null)
            {
                runs.Add(run);
                summaries.Add(Path.Combine(directory, "summary.json"));
            }
        }
        if (runs.Count == 0)
        {
            return null;
        }

        var baselinesPath = Path.Combine(settings.OutDirectory, Baselines.FileName);
        if (group.IsRoot)
        {
            Baselines.FromSummaries(summaries).Write(baselinesPath);
            logger.LogInformation("Wrote single-task baselines {Baselines}", baselinesPath);
        }
        var seconds = runs.Sum(r => r.Seconds);
        var summary = new RunSummary(settings.Encoder, settings.Device, runs.Max(r => r.Steps), Math.Round(seconds, 3),
            Math.Round(runs.Sum(r => r.Steps) / Math.Max(seconds, 1e-9), 3), Path.Combine(settings.OutDirectory, Baselines.SingleTaskFolder),
            runs.SelectMany(r => r.Tasks).OrderBy(t => t.Id, StringComparer.Ordinal).ToList(), tasks.Refused)
        {
            Sampler = runs[0].Sampler,
            Weighting = runs[0].Weighting,
            Sharing = runs[0].Sharing,
            SingleTask = true,
        };
        if (group.IsRoot)
        {
            File.WriteAllText(Path.Combine(settings.OutDirectory, "summary.json"), JsonSerializer.Serialize(summary, HostJson.Options));
        }
        return summary;
    }
}
