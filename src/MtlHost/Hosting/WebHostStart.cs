using Microsoft.AspNetCore.Builder;
using MtlHost.Cli;
using MtlHost.Worker;

namespace MtlHost.Hosting;

/// <summary>Starts the web host of a <c>serve</c> service, turning an address that cannot be listened on into bad usage (exit 2).</summary>
public static class WebHostStart
{
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
