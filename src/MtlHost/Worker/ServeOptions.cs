using System.Globalization;
using Microsoft.Extensions.Configuration;
using MtlHost.Cli;

namespace MtlHost.Worker;

/// <summary>Settings of <c>mtlhost serve</c> (section <c>Serve</c>), checked when read.</summary>
/// <param name="Urls">Where the dashboard and API listen.</param>
/// <param name="ShutdownTimeout">How long a stop may take: the step in progress, the final evaluation and the checkpoint.</param>
public sealed record ServeOptions(IReadOnlyList<string> Urls, TimeSpan ShutdownTimeout)
{
    /// <summary>Default of <c>Serve:ShutdownTimeoutSeconds</c>: enough for a MiniLM step, an evaluation and a checkpoint on a CPU.</summary>
    public const double DefaultShutdownTimeoutSeconds = 300;

    /// <summary>Reads and checks the settings.</summary>
    /// <param name="configuration">The layered configuration.</param>
    /// <returns>The settings.</returns>
    /// <exception cref="UsageException">A value is not valid; the message names it and the fix.</exception>
    public static ServeOptions Read(IConfiguration configuration)
    {
        var urls = (configuration["Serve:Urls"] is { Length: > 0 } configured ? configured : CommandLine.DefaultUrls)
            .Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (urls.Length == 0)
        {
            throw new UsageException($"--urls (Serve:Urls) is empty; give a URL such as {CommandLine.DefaultUrls}.");
        }
        foreach (var url in urls)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp || uri.AbsolutePath != "/" ||
                string.IsNullOrEmpty(uri.Host))
            {
                throw new UsageException($"--urls (Serve:Urls) '{url}' is not a URL to listen on; give one like {CommandLine.DefaultUrls} " +
                                         "(http, a host and a port; for HTTPS put a reverse proxy in front).");
            }
        }

        var timeoutText = configuration["Serve:ShutdownTimeoutSeconds"];
        var seconds = DefaultShutdownTimeoutSeconds;
        if (!string.IsNullOrWhiteSpace(timeoutText) &&
            (!double.TryParse(timeoutText, NumberStyles.Float, CultureInfo.InvariantCulture, out seconds) || !double.IsFinite(seconds) || seconds <= 0))
        {
            throw new UsageException($"Serve:ShutdownTimeoutSeconds '{timeoutText}' must be a number of seconds above 0 " +
                                     $"(default {DefaultShutdownTimeoutSeconds}); it bounds the last step, evaluation and checkpoint at a stop.");
        }
        return new ServeOptions(urls, TimeSpan.FromSeconds(seconds));
    }
}
