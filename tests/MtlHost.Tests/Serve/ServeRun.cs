using System.Net.Http.Headers;
using System.Text.Json;
using MtlHost.Cli;
using MtlHost.Tests.Infrastructure;
using MtlHost.Worker;
using Shouldly;

namespace MtlHost.Tests.Serve;

/// <summary>
/// <c>mtlhost serve</c> in-process, as a user starts it: the real web server on 127.0.0.1 (a free port), the tiny encoder,
/// a temporary plugins folder with copies of sample plugins, a fast-reacting watcher.
/// </summary>
public sealed class ServeRun : IAsyncDisposable
{
    /// <summary>The token of the runs that have one.</summary>
    public const string Token = "serve-tests-token-0123456789";

    private readonly ServeHost _host;
    private readonly string[] _extra;
    private bool _stopped;
    private bool _foldersHandedOn;

    private ServeRun(ServeHost host, TemporaryDirectory plugins, TemporaryDirectory folder, string[] extra)
    {
        _host = host;
        _extra = extra;
        Plugins = plugins;
        Folder = folder;
        Client = new HttpClient { BaseAddress = new Uri(host.Urls[0]), Timeout = TimeSpan.FromMinutes(2) };
    }

    /// <summary>The watched plugins folder.</summary>
    public TemporaryDirectory Plugins { get; }

    /// <summary>Holds the run folder (<c>out</c>) and the settings file.</summary>
    public TemporaryDirectory Folder { get; }

    /// <summary>The run folder.</summary>
    public string OutDirectory => Folder.Combine("out");

    /// <summary>A client of the service.</summary>
    public HttpClient Client { get; }

    /// <summary>The address of the dashboard.</summary>
    public string Url => _host.Urls[0] + "/";

    /// <summary>The service's services (the monitor, the control, the predictions).</summary>
    public IServiceProvider Services => _host.Services;

    /// <summary>The exit code the service leaves.</summary>
    public int ExitCode => _host.ExitCode;

    /// <summary>Starts serve over copies of <paramref name="plugins"/> (names of folders in artifacts/plugins).</summary>
    /// <param name="plugins">Sample plugins to start with.</param>
    /// <param name="withToken">Whether Dashboard:Token is set (to <see cref="Token"/>).</param>
    /// <param name="extra">More command-line options.</param>
    /// <returns>The running service.</returns>
    public static async Task<ServeRun> StartAsync(string[] plugins, bool withToken = true, params string[] extra)
    {
        var pluginsFolder = new TemporaryDirectory();
        foreach (var plugin in plugins)
        {
            pluginsFolder.CopyPlugin(Path.Combine(RepositoryPaths.SamplePlugins, plugin));
        }
        var folder = new TemporaryDirectory();
        return await StartAsync(pluginsFolder, folder, withToken, extra);
    }

    /// <summary>
    /// Stops this service gracefully and starts it again over the same plugins and run folder, as a restart of the
    /// process does; the new run owns the folders from then on.
    /// </summary>
    /// <param name="extra">More command-line options for the new start; the first start's when none are given.</param>
    /// <returns>The restarted service.</returns>
    public async Task<ServeRun> RestartAsync(params string[] extra)
    {
        await StopAsync();
        _foldersHandedOn = true;
        return await StartAsync(Plugins, Folder, withToken: true, extra.Length > 0 ? extra : _extra);
    }

    private static async Task<ServeRun> StartAsync(TemporaryDirectory pluginsFolder, TemporaryDirectory folder, bool withToken, string[] extra)
    {
        var settings = folder.Combine("settings.json");
        File.WriteAllText(settings, JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["Logging"] = new { LogLevel = new { Default = "Warning" } },
            ["HotReload"] = new { DebounceMilliseconds = 100, PollMilliseconds = 500 },
            ["Dashboard"] = new { Token = withToken ? Token : "" },
        }));
        var command = CommandLine.Parse(["serve", "--config", settings, "--encoder", "tiny", "--plugins", pluginsFolder.Path, "--out", folder.Combine("out"),
            "--urls", "http://127.0.0.1:0", "--batch-size", "8", "--max-length", "32", "--eval-every", "10", .. extra]);
        var host = ServeHost.Create(command, TextWriter.Null, TextWriter.Null);
        await host.StartAsync();
        return new ServeRun(host, pluginsFolder, folder, extra);
    }

    /// <summary>A request with the bearer token (or <paramref name="token"/>).</summary>
    /// <param name="method">The method.</param>
    /// <param name="path">The path.</param>
    /// <param name="token">The token to send; <see cref="Token"/> by default.</param>
    /// <returns>The response.</returns>
    public Task<HttpResponseMessage> Control(HttpMethod method, string path, string? token = Token)
    {
        var request = new HttpRequestMessage(method, path);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        return Client.SendAsync(request);
    }

    /// <summary>GET a JSON endpoint.</summary>
    /// <param name="path">The path.</param>
    /// <returns>The body.</returns>
    public async Task<JsonElement> Get(string path)
    {
        using var response = await Client.GetAsync(path);
        response.IsSuccessStatusCode.ShouldBeTrue($"GET {path}: {(int)response.StatusCode}");
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    /// <summary>The status.</summary>
    /// <returns><c>GET /api/status</c>.</returns>
    public Task<JsonElement> Status() => Get("/api/status");

    /// <summary>Polls the status until <paramref name="condition"/> holds; fails with <paramref name="what"/> if it never does.</summary>
    /// <param name="condition">The condition on the status.</param>
    /// <param name="what">What was awaited, for the failure message.</param>
    /// <returns>The status that met it.</returns>
    public async Task<JsonElement> WaitForStatus(Func<JsonElement, bool> condition, string what)
    {
        JsonElement status = default;
        // Generous: the machine may be busy; this bounds a hang, it does not measure speed.
        for (var deadline = DateTime.UtcNow.AddMinutes(3); DateTime.UtcNow < deadline; await Task.Delay(200))
        {
            status = await Status();
            if (condition(status))
            {
                return status;
            }
        }
        throw new ShouldAssertException($"Waited in vain for {what}; last status: {status}");
    }

    /// <summary>Stops the service gracefully, as SIGTERM does.</summary>
    /// <returns>A task.</returns>
    public async Task StopAsync()
    {
        if (!_stopped)
        {
            _stopped = true;
            await _host.StopAsync();
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await _host.DisposeAsync();
        Client.Dispose();
        if (!_foldersHandedOn)
        {
            Plugins.Dispose();
            Folder.Dispose();
        }
    }
}
