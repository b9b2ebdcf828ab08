using System.Reflection;
using Microsoft.Extensions.Configuration;
using MtlHost.Cli;
using MtlHost.Core.Distributed;
using MtlHost.Core.Encoders;
using MtlHost.Core.Evaluation;
using MtlHost.Evaluation;
using MtlHost.HotReload;
using MtlHost.Core.Sampling;
using MtlHost.Core.Sharing;
using MtlHost.Core.Training;
using MtlHost.Core.Weighting;

namespace MtlHost.Hosting;

/// <summary>
/// The settings of a run, read from configuration (appsettings.json, --config FILE, MTLHOST_*
/// environment variables and the command line, in rising priority) and checked: a bad value is a
/// <see cref="UsageException"/> naming the setting.
/// </summary>
/// <param name="PluginsDirectory">The plugins folder.</param>
/// <param name="Encoder">Encoder name.</param>
/// <param name="Device">Device name.</param>
/// <param name="Training">Training options.</param>
/// <param name="OutDirectory">Run folder.</param>
public sealed record HostSettings(string PluginsDirectory, string Encoder, string Device, TrainingOptions Training, string OutDirectory)
{
    /// <summary>Reads and checks the settings.</summary>
    /// <param name="configuration">The layered configuration.</param>
    /// <returns>The settings.</returns>
    /// <exception cref="UsageException">A value is missing or not valid.</exception>
    public static HostSettings Read(IConfiguration configuration)
    {
        var encoder = ReadEncoder(configuration);
        var device = (configuration["Encoder:Device"] ?? "cpu").Trim().ToLowerInvariant();

        TrainingOptions training;
        try
        {
            training = configuration.GetSection("Training").Get<TrainingOptions>() ?? new TrainingOptions();
        }
        catch (InvalidOperationException e)
        {
            throw new UsageException($"Training settings are not valid: {e.Message} {e.InnerException?.Message}".Trim());
        }
        var problem = training.Validate();
        if (problem is not null)
        {
            throw new UsageException(problem);
        }
        training = training with
        {
            Sampler = training.Sampler is null ? null : Known("--sampler (Training:Sampler)", training.Sampler, SamplerCatalog.Names),
            Weighting = Known("--weighting (Training:Weighting)", training.Weighting, WeightingCatalog.Names),
            Sharing = Known("--sharing (Training:Sharing)", training.Sharing, SharingCatalog.Names),
        };
        var sampling = Section(configuration, "Sampling", new SamplerOptions());
        var weighting = Section(configuration, "Weighting", new WeightingOptions());
        var sharing = Section(configuration, "Sharing", SharingOptions.Default);
        var baselines = configuration["Run:Baselines"] is { Length: > 0 } baselinesPath ? ReadBaselines(baselinesPath) : null;

        var outDirectory = configuration["Run:Out"];
        if (string.IsNullOrWhiteSpace(outDirectory))
        {
            outDirectory = Path.Combine("runs", DateTime.Now.ToString("yyyyMMdd-HHmmss", System.Globalization.CultureInfo.InvariantCulture));
        }
        var settings = new HostSettings(ResolvePluginsDirectory(configuration), encoder, device, training, Path.GetFullPath(outDirectory))
        {
            Sampling = sampling,
            WeightingOptions = weighting,
            SharingOptions = sharing,
            Baselines = baselines,
            HotReload = ReadHotReload(configuration),
            Distributed = ReadDistributed(configuration),
        };
        settings.CreateStrategies();
        return settings;
    }

    /// <summary>Settings of the task samplers (section <c>Sampling</c>).</summary>
    public SamplerOptions Sampling { get; init; } = new();

    /// <summary>Settings of the loss weightings (section <c>Weighting</c>).</summary>
    public WeightingOptions WeightingOptions { get; init; } = new();

    /// <summary>Settings of the sharing strategies (section <c>Sharing</c>).</summary>
    public SharingOptions SharingOptions { get; init; } = new();

    /// <summary>Single-task baselines to select the best evaluation by Δm% against (<c>--baselines</c>), or <see langword="null"/>.</summary>
    public Baselines? Baselines { get; init; }

    /// <summary>How the run trains across processes when started by <c>mpirun</c> (section <c>Distributed</c>).</summary>
    public DistributedOptions Distributed { get; init; } = new();

    /// <summary>How the plugins folder is watched with <c>--watch</c> and in <c>serve</c> (section <c>HotReload</c>).</summary>
    public HotReloadOptions HotReload { get; init; } = new();

    /// <summary>
    /// Creates the run's sampler, a fresh weighting (a weighting learns, so every run needs its
    /// own), the sharing strategy and the task groups. Without <c>--sampler</c>, a weighting that compares tasks within a step gets
    /// <c>all-tasks</c> and any other gets <c>proportional</c>.
    /// </summary>
    /// <returns>The sampler, the weighting, the sharing strategy and the task groups.</returns>
    /// <exception cref="UsageException">The sampler cannot feed the weighting, or an option is out of range.</exception>
    public (ITaskSampler Sampler, ILossWeighting Weighting, ISharingStrategy Sharing, TaskGroups Groups) CreateStrategies()
    {
        try
        {
            var sharing = SharingCatalog.Create(Training.Sharing, SharingOptions);
            sharing.Validate(EncoderCatalog.ConfigOf(Encoder));
            var groups = TaskGroups.Parse(SharingOptions.TaskGroups);
            var weighting = WeightingCatalog.Create(Training.Weighting, WeightingOptions);
            var samplerName = Training.Sampler ?? (weighting.NeedsEveryTask ? SamplerCatalog.AllTasks : SamplerCatalog.Default);
            if (weighting.NeedsEveryTask && samplerName != SamplerCatalog.AllTasks)
            {
                throw new UsageException($"--weighting {weighting.Name} compares the tasks within each step, so every step needs a batch of every task: " +
                                         $"use --sampler {SamplerCatalog.AllTasks} (or leave --sampler out), not --sampler {samplerName}.");
            }
            return (SamplerCatalog.Create(samplerName, Sampling), weighting, sharing, groups);
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message);
        }
    }

    private static string Known(string setting, string value, IReadOnlyList<string> names) =>
        names.FirstOrDefault(n => string.Equals(n, value.Trim(), StringComparison.OrdinalIgnoreCase))
        ?? throw new UsageException($"{setting} '{value}' is not known; use one of {string.Join(", ", names)}.");

    private static T Section<T>(IConfiguration configuration, string name, T defaults)
    {
        try
        {
            return configuration.GetSection(name).Get<T>() ?? defaults;
        }
        catch (InvalidOperationException e)
        {
            throw new UsageException($"{name} settings are not valid: {e.Message} {e.InnerException?.Message}".Trim());
        }
    }

    // HotReload:DebounceMilliseconds etc. tune the watcher; the defaults suit a person copying a plugin folder.
    private static HotReloadOptions ReadHotReload(IConfiguration configuration)
    {
        var defaults = new HotReloadOptions();
        double Read(string key, double fallback) =>
            double.TryParse(configuration[$"HotReload:{key}"], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v) && v >= 0 ? v : fallback;
        return new HotReloadOptions
        {
            Debounce = TimeSpan.FromMilliseconds(Read("DebounceMilliseconds", defaults.Debounce.TotalMilliseconds)),
            PollInterval = TimeSpan.FromMilliseconds(Math.Max(100, Read("PollMilliseconds", defaults.PollInterval.TotalMilliseconds))),
            UnloadTimeout = TimeSpan.FromSeconds(Read("UnloadTimeoutSeconds", defaults.UnloadTimeout.TotalSeconds)),
            DataTimeout = TimeSpan.FromSeconds(Read("DataTimeoutSeconds", defaults.DataTimeout.TotalSeconds)),
            ProbationSteps = (int)Read("ProbationSteps", defaults.ProbationSteps),
            PrepareInBackground = bool.TryParse(configuration["HotReload:PrepareInBackground"], out var background)
                ? background
                : defaults.PrepareInBackground,
        };
    }

    private static DistributedOptions ReadDistributed(IConfiguration configuration)
    {
        var options = Section(configuration, "Distributed", new DistributedOptions());
        if (options.BucketMegabytes is < 1 or > 1024)
        {
            throw new UsageException($"Distributed:BucketMegabytes must be between 1 and 1024, not {options.BucketMegabytes}.");
        }
        return options;
    }

    private static Baselines ReadBaselines(string path)
    {
        try
        {
            return Baselines.Read(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException or InvalidDataException)
        {
            throw new UsageException($"--baselines '{path}' cannot be read: {e.Message} Pass the baselines.json that 'train --single-task' wrote.");
        }
    }

    /// <summary>The encoder name (<c>--encoder</c>, <c>Encoder:Name</c>; MiniLM by default), checked against the catalog.</summary>
    /// <param name="configuration">The layered configuration.</param>
    /// <returns>A known encoder name, lower-case.</returns>
    /// <exception cref="UsageException">The name is not known.</exception>
    public static string ReadEncoder(IConfiguration configuration)
    {
        var encoder = (configuration["Encoder:Name"] ?? EncoderCatalog.MiniLm).Trim().ToLowerInvariant();
        if (!EncoderCatalog.IsKnown(encoder))
        {
            throw new UsageException($"--encoder (Encoder:Name) '{encoder}' is not known; use one of {string.Join(", ", EncoderCatalog.Names)}.");
        }
        return encoder;
    }

    /// <summary>
    /// The plugins folder: the configured one (<c>--plugins</c>, <c>Plugins:Directory</c>); else a
    /// <c>plugins</c> folder beside the executable, as a deployed host has; else the folder the build
    /// puts the sample plugins in.
    /// </summary>
    /// <param name="configuration">The layered configuration.</param>
    /// <returns>An absolute path.</returns>
    public static string ResolvePluginsDirectory(IConfiguration configuration)
    {
        var configured = configuration["Plugins:Directory"];
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return Path.GetFullPath(configured);
        }
        var beside = Path.Combine(AppContext.BaseDirectory, "plugins");
        if (Directory.Exists(beside))
        {
            return beside;
        }
        var built = typeof(HostSettings).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "MtlHost.DefaultPluginsDirectory")?.Value;
        return built ?? beside;
    }
}
