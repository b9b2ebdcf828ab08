using System.Reflection;
using Microsoft.Extensions.Configuration;
using MtlHost.Cli;
using MtlHost.Core.Encoders;
using MtlHost.Core.Training;

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
        foreach (var (key, known) in new[] { ("Sampler", "proportional"), ("Weighting", "ew"), ("Sharing", "hard") })
        {
            var value = configuration[$"Training:{key}"];
            if (value is not null && !string.Equals(value, known, StringComparison.OrdinalIgnoreCase))
            {
                throw new UsageException($"Training:{key} '{value}' is not known; this version offers '{known}'.");
            }
        }

        var outDirectory = configuration["Run:Out"];
        if (string.IsNullOrWhiteSpace(outDirectory))
        {
            outDirectory = Path.Combine("runs", DateTime.Now.ToString("yyyyMMdd-HHmmss", System.Globalization.CultureInfo.InvariantCulture));
        }
        return new HostSettings(ResolvePluginsDirectory(configuration), encoder, device, training, Path.GetFullPath(outDirectory));
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
