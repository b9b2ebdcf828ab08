namespace MtlHost.Worker;

/// <summary>The console of a serve process and the exit code its run leaves: what <c>mtlhost serve</c> returns once the host stops.</summary>
/// <param name="output">Standard output: the run's summary at its end.</param>
/// <param name="error">Standard error: why the run could not start or failed.</param>
public sealed class ServeSession(TextWriter output, TextWriter error)
{
    private volatile int _exitCode = MtlHostApplication.Success;

    /// <summary>Standard output.</summary>
    public TextWriter Output { get; } = output;

    /// <summary>Standard error.</summary>
    public TextWriter Error { get; } = error;

    /// <summary>0 while all is well and after a graceful stop; 1 when the run failed; 2 when its input was bad.</summary>
    public int ExitCode
    {
        get => _exitCode;
        set => _exitCode = value;
    }
}
