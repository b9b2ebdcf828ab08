using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using MtlHost.Cli;
using MtlHost.Commands;

namespace MtlHost.Hosting;

/// <summary>
/// Builds the generic host for a command: layered configuration, console logging to standard error
/// (standard output stays for results), and the commands as services.
/// </summary>
public static class HostFactory
{
    /// <summary>Environment variable prefix of settings (<c>MTLHOST_Training__Steps=100</c>).</summary>
    public const string EnvironmentPrefix = "MTLHOST_";

    /// <summary>Builds the host.</summary>
    /// <param name="command">The parsed command line.</param>
    /// <returns>The host, not started.</returns>
    /// <exception cref="UsageException">The settings file is missing or not valid JSON.</exception>
    public static IHost Build(ParsedCommand command) => Build(command, null);

    /// <summary>Builds the host, with settings of the command that every other layer overrides.</summary>
    /// <param name="command">The parsed command line.</param>
    /// <param name="defaults">The command's own defaults (<c>serve</c>'s), or <see langword="null"/>.</param>
    /// <returns>The host, not started.</returns>
    /// <exception cref="UsageException">The settings file is missing or not valid JSON.</exception>
    public static IHost Build(ParsedCommand command, IEnumerable<KeyValuePair<string, string?>>? defaults)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            DisableDefaults = true,
            ContentRootPath = AppContext.BaseDirectory,
        });
        Configure(builder, command, defaults);
        return builder.Build();
    }

    /// <summary>
    /// Gives a host builder (the generic host's, or the web host's of <c>serve</c>) the configuration layers,
    /// in rising priority — <paramref name="defaults"/>, appsettings.json, <c>--config FILE</c>, <c>MTLHOST_*</c>
    /// environment variables, the command line — plus console logging to standard error and the commands as services.
    /// Any configuration source the builder already has is dropped, so every command reads settings the same way.
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <param name="command">The parsed command line.</param>
    /// <param name="defaults">Settings of the command that every other layer overrides, or <see langword="null"/>.</param>
    /// <exception cref="UsageException">The settings file is missing or not valid JSON.</exception>
    public static void Configure(IHostApplicationBuilder builder, ParsedCommand command, IEnumerable<KeyValuePair<string, string?>>? defaults = null)
    {
        builder.Configuration.Sources.Clear();
        if (defaults is not null)
        {
            builder.Configuration.AddInMemoryCollection(defaults);
        }
        builder.Configuration.AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true, reloadOnChange: false);
        var configFile = command.Get("config");
        if (configFile is not null)
        {
            var full = Path.GetFullPath(configFile);
            if (!File.Exists(full))
            {
                throw new UsageException($"--config: settings file '{full}' does not exist.");
            }
            try
            {
                builder.Configuration.AddJsonFile(full, optional: false, reloadOnChange: false);
            }
            catch (Exception e) when (e is InvalidDataException or FormatException)
            {
                throw new UsageException($"--config: settings file '{full}' is not valid JSON: {e.Message}");
            }
        }
        builder.Configuration.AddEnvironmentVariables(EnvironmentPrefix);
        builder.Configuration.AddInMemoryCollection(command.ToConfiguration());

        builder.Logging.ClearProviders();
        builder.Logging.AddConfiguration(builder.Configuration.GetSection("Logging"));
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
        });
        builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);

        builder.Services.AddSingleton(command);
        builder.Services.AddSingleton<TrainCommand>();
        builder.Services.AddSingleton<PluginsCommand>();
        builder.Services.AddSingleton<PredictCommand>();
        builder.Services.AddSingleton<EvalCommand>();
    }
}
