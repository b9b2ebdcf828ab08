using System.Text.Json;

namespace MtlHost.Tests.Infrastructure;

/// <summary>Runs the mtlhost command line in-process and keeps what it printed.</summary>
/// <param name="ExitCode">The exit code.</param>
/// <param name="Output">Standard output.</param>
/// <param name="Error">Standard error.</param>
public sealed record HostRun(int ExitCode, string Output, string Error)
{
    /// <summary>Runs a command line.</summary>
    /// <param name="args">The arguments.</param>
    /// <returns>What happened.</returns>
    public static HostRun Of(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = MtlHostApplication.Run(args, output, error);
        return new HostRun(code, output.ToString(), error.ToString());
    }

    /// <summary>Standard output parsed as the one JSON object of <c>--json</c>.</summary>
    public JsonElement Json => JsonDocument.Parse(Output).RootElement;
}
