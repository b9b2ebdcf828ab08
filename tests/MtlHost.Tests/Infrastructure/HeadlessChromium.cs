using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MtlHost.Tests.Infrastructure;

/// <summary>
/// Debian's Chromium, headless, driven over the Chrome DevTools Protocol (a WebSocket, no driver, nothing downloaded):
/// opens a page and evaluates JavaScript in it, as a person's browser would run it.
/// </summary>
public sealed class HeadlessChromium : IAsyncDisposable
{
    /// <summary>What to do when Chromium is missing: the README's test command installs it.</summary>
    public const string InstallHint =
        "Chromium is needed for the dashboard's browser test and was not found (looked for $MTLHOST_CHROMIUM, /usr/bin/chromium and chromium, " +
        "chromium-browser, google-chrome on PATH). Run the tests with ./test.sh at the repository root (the README's test command), which " +
        "installs Debian's chromium when it is missing; or install it yourself: sudo apt-get install -y chromium, " +
        "or set MTLHOST_CHROMIUM to a Chromium or Chrome executable.";

    private readonly Process _process;
    private readonly TemporaryDirectory _profile;
    private readonly ClientWebSocket _socket;
    private int _nextId;

    private HeadlessChromium(Process process, TemporaryDirectory profile, ClientWebSocket socket)
    {
        _process = process;
        _profile = profile;
        _socket = socket;
    }

    /// <summary>The Chromium executable, or <see langword="null"/> when none is installed.</summary>
    public static string? Executable
    {
        get
        {
            var configured = Environment.GetEnvironmentVariable("MTLHOST_CHROMIUM");
            if (!string.IsNullOrEmpty(configured) && File.Exists(configured))
            {
                return configured;
            }
            if (File.Exists("/usr/bin/chromium"))
            {
                return "/usr/bin/chromium";
            }
            var path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
            return new[] { "chromium", "chromium-browser", "google-chrome" }
                .SelectMany(name => path.Select(directory => Path.Combine(directory, name))).FirstOrDefault(File.Exists);
        }
    }

    /// <summary>Starts Chromium on <paramref name="url"/> and connects to the page.</summary>
    /// <param name="url">The page.</param>
    /// <returns>The browser.</returns>
    /// <exception cref="InvalidOperationException">Chromium is not installed, or did not start.</exception>
    public static async Task<HeadlessChromium> OpenAsync(string url)
    {
        var executable = Executable ?? throw new InvalidOperationException(InstallHint);
        var profile = new TemporaryDirectory();
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // Port 0: Chromium picks a free port and writes it to DevToolsActivePort in the profile.
        foreach (var arg in new[] { "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                     "--no-default-browser-check", "--remote-debugging-port=0", $"--user-data-dir={profile.Path}", "--window-size=1280,1400", url })
        {
            start.ArgumentList.Add(arg);
        }
        var process = Process.Start(start)!;
        var errors = new StringBuilder();
        process.ErrorDataReceived += (_, e) => { lock (errors) { errors.AppendLine(e.Data); } };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        try
        {
            var portFile = profile.Combine("DevToolsActivePort");
            for (var deadline = DateTime.UtcNow.AddMinutes(1); !File.Exists(portFile) && DateTime.UtcNow < deadline && !process.HasExited;)
            {
                await Task.Delay(100);
            }
            if (!File.Exists(portFile))
            {
                throw new InvalidOperationException($"Chromium ({executable}) did not open its DevTools port. Its standard error:\n{errors}");
            }
            string[] lines = [];
            for (var tries = 0; tries < 50 && lines.Length < 1; tries++, await Task.Delay(100))
            {
                lines = File.ReadAllLines(portFile).Where(l => l.Length > 0).ToArray();
            }
            var port = int.Parse(lines[0], System.Globalization.CultureInfo.InvariantCulture);
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            string? pageSocket = null;
            for (var deadline = DateTime.UtcNow.AddMinutes(1); pageSocket is null && DateTime.UtcNow < deadline; await Task.Delay(100))
            {
                var targets = JsonNode.Parse(await http.GetStringAsync("/json/list"))!.AsArray();
                pageSocket = targets.FirstOrDefault(t => (string?)t!["type"] == "page")?["webSocketDebuggerUrl"]?.GetValue<string>();
            }
            if (pageSocket is null)
            {
                throw new InvalidOperationException("Chromium opened no page.");
            }
            var socket = new ClientWebSocket();
            await socket.ConnectAsync(new Uri(pageSocket), CancellationToken.None);
            return new HeadlessChromium(process, profile, socket);
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            process.Dispose();
            profile.Dispose();
            throw;
        }
    }

    /// <summary>Evaluates a JavaScript expression in the page and returns its value as JSON.</summary>
    /// <param name="expression">The expression.</param>
    /// <returns>The value.</returns>
    /// <exception cref="InvalidOperationException">The expression threw.</exception>
    public async Task<JsonElement> EvaluateAsync(string expression)
    {
        var id = ++_nextId;
        var message = new JsonObject
        {
            ["id"] = id,
            ["method"] = "Runtime.evaluate",
            ["params"] = new JsonObject { ["expression"] = expression, ["returnByValue"] = true, ["awaitPromise"] = true },
        };
        await _socket.SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString()), WebSocketMessageType.Text, true, CancellationToken.None);
        while (true)
        {
            using var reply = JsonDocument.Parse(await ReceiveAsync());
            if (!reply.RootElement.TryGetProperty("id", out var replyId) || replyId.GetInt32() != id)
            {
                continue; // an event, not our answer
            }
            if (reply.RootElement.TryGetProperty("error", out var error))
            {
                throw new InvalidOperationException($"Runtime.evaluate failed: {error}");
            }
            var result = reply.RootElement.GetProperty("result");
            if (result.TryGetProperty("exceptionDetails", out var exception))
            {
                throw new InvalidOperationException($"'{expression}' threw in the page: {exception}");
            }
            return result.GetProperty("result").TryGetProperty("value", out var value) ? value.Clone() : default;
        }
    }

    /// <summary>Evaluates <paramref name="expression"/> until it is <c>true</c>; fails with the last value of <paramref name="describe"/>.</summary>
    /// <param name="expression">A JavaScript expression giving a boolean.</param>
    /// <param name="describe">A JavaScript expression describing the page state, for the failure message.</param>
    /// <param name="what">What was awaited.</param>
    /// <returns>A task.</returns>
    public async Task WaitForAsync(string expression, string describe, string what)
    {
        // Bounds a hang; it does not measure speed.
        for (var deadline = DateTime.UtcNow.AddMinutes(3); DateTime.UtcNow < deadline; await Task.Delay(250))
        {
            if (await EvaluateAsync(expression) is { ValueKind: JsonValueKind.True })
            {
                return;
            }
        }
        throw new Shouldly.ShouldAssertException($"The page never showed {what}. Page state: {await EvaluateAsync(describe)}");
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        try
        {
            await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        }
        catch (Exception e) when (e is WebSocketException or InvalidOperationException)
        {
            // Chromium may already be gone.
        }
        _socket.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        _profile.Dispose();
    }

    private async Task<string> ReceiveAsync()
    {
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        WebSocketReceiveResult result;
        do
        {
            result = await _socket.ReceiveAsync(buffer, CancellationToken.None);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                throw new InvalidOperationException("Chromium closed the DevTools connection.");
            }
            message.Write(buffer, 0, result.Count);
        }
        while (!result.EndOfMessage);
        return Encoding.UTF8.GetString(message.ToArray());
    }
}
