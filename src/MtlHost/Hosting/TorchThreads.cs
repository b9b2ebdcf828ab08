using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using MtlHost.Cli;
using TorchSharp;

namespace MtlHost.Hosting;

/// <summary>
/// How many CPU threads torch computes with: <c>--threads N</c> (<c>Encoder:Threads</c>, <c>MTLHOST_Encoder__Threads</c>);
/// without it, <c>OMP_NUM_THREADS</c> when set, else torch's own default (one per physical core).
/// </summary>
/// <remarks>
/// libtorch's OpenMP threads spin while they wait for work, so two processes that each take every core slow each other
/// down many times over (a MiniLM run on 2 shared cores: 0.04 steps/s with the default, 0.4 with one thread). Setting the
/// count is process-wide for threads that start torch work afterwards, which is why the commands apply it before any.
/// </remarks>
public static class TorchThreads
{
    /// <summary>Configuration key of the setting.</summary>
    public const string ConfigurationKey = "Encoder:Threads";

    /// <summary>The environment variable libtorch (OpenMP) reads when the setting is absent.</summary>
    public const string OpenMpVariable = "OMP_NUM_THREADS";

    // libtorch allows the inter-op pool's size to be set only once per process, before it is first used.
    private static int _interOpSet;

    /// <summary>Reads and checks the setting.</summary>
    /// <param name="configuration">The layered configuration.</param>
    /// <returns>The thread count, or <see langword="null"/> when it is not set.</returns>
    /// <exception cref="UsageException">The value is not a whole number of at least 1.</exception>
    public static int? Read(IConfiguration configuration) => Parse(configuration[ConfigurationKey]);

    /// <summary>Checks a thread count as given on the command line or in a setting.</summary>
    /// <param name="value">The text, or <see langword="null"/>.</param>
    /// <returns>The thread count, or <see langword="null"/> when <paramref name="value"/> is empty.</returns>
    /// <exception cref="UsageException">The value is not a whole number of at least 1.</exception>
    public static int? Parse(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }
        if (!int.TryParse(value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var threads) || threads < 1)
        {
            throw new UsageException($"--threads ({ConfigurationKey}) must be a whole number of at least 1, not '{value}'; " +
                                     $"leave it out for {OpenMpVariable}, or else torch's default of one thread per physical core.");
        }
        return threads;
    }

    /// <summary>
    /// Gives torch <paramref name="threads"/> intra-op threads (and as many inter-op threads, when torch still allows it),
    /// or leaves its default when <see langword="null"/>; logs the count torch then uses and where it came from.
    /// </summary>
    /// <param name="threads">The thread count, or <see langword="null"/> for the default.</param>
    /// <param name="logger">Receives the <c>torch threads: N</c> line.</param>
    /// <returns>The count torch uses on this thread now.</returns>
    public static int Apply(int? threads, ILogger logger)
    {
        var environment = Environment.GetEnvironmentVariable(OpenMpVariable);
        string source;
        if (threads is { } count)
        {
            torch.set_num_threads(count);
            SetInterOpOnce(count, logger);
            source = string.IsNullOrWhiteSpace(environment) ? "--threads" : $"--threads, over {OpenMpVariable}={environment}";
        }
        else
        {
            // libtorch reads OMP_NUM_THREADS itself, and otherwise takes one thread per physical core.
            source = string.IsNullOrWhiteSpace(environment)
                ? $"torch's default, one per physical core; on a shared machine pass --threads N or set {OpenMpVariable}"
                : $"{OpenMpVariable}={environment}";
        }
        var used = torch.get_num_threads();
        logger.LogInformation("torch threads: {Threads} ({Source})", used, source);
        if (used > Environment.ProcessorCount)
        {
            // More spinning OpenMP threads than cores only take turns, and each turn costs.
            logger.LogWarning("torch has {Threads} threads but this process may use {Cores} cores; pass --threads {Cores} or fewer",
                used, Environment.ProcessorCount, Environment.ProcessorCount);
        }
        return used;
    }

    private static void SetInterOpOnce(int threads, ILogger logger)
    {
        if (Interlocked.Exchange(ref _interOpSet, 1) != 0)
        {
            return;
        }
        try
        {
            torch.set_num_interop_threads(threads);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Inter-op parallelism already started in this process (torch refuses then); eager training hardly uses that
            // pool, so this is never worth failing a run for.
            logger.LogDebug("torch inter-op threads stay at {Threads}: {Reason}", torch.get_num_interop_threads(), e.Message);
        }
    }
}
