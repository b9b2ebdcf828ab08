using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MtlHost.Cli;
using MtlHost.Worker;

namespace MtlHost.Hosting;

/// <summary>
/// The web host both <c>serve</c> services share (the training one and <c>serve --onnx</c>): how it listens, stops and
/// runs under systemd, and how it starts, an address that cannot be listened on being bad usage (exit 2).
/// </summary>
public static class ServeWebHost
{
    /// <summary>Applies the service's settings to the web host: its addresses, its shutdown timeout, systemd.</summary>
    /// <param name="builder">The web application's builder.</param>
    /// <param name="options">The service's settings.</param>
    public static void Configure(WebApplicationBuilder builder, ServeOptions options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        // A start-up failure (an address in use) is reported once, by StartAsync's message; the host's own log of it is a stack trace.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);
        builder.Host.UseSystemd();
        builder.WebHost.UseUrls([.. options.Urls]);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = options.ShutdownTimeout);
    }

    /// <summary>Starts listening.</summary>
    /// <param name="app">The web application.</param>
    /// <param name="options">The service's settings (its addresses).</param>
    /// <param name="cancellationToken">Abandons the start.</param>
    /// <returns>A task that completes once the service listens.</returns>
    /// <exception cref="UsageException">An address cannot be listened on; the message names it and the fix.</exception>
    public static async Task StartAsync(WebApplication app, ServeOptions options, CancellationToken cancellationToken)
    {
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (IOException e)
        {
            throw new UsageException($"--urls (Serve:Urls) {string.Join(";", options.Urls)}: cannot listen: {e.Message} " +
                                     "Stop what listens there or give another address with --urls.");
        }
    }
}
