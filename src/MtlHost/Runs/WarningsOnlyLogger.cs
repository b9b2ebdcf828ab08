using Microsoft.Extensions.Logging;

namespace MtlHost.Runs;

/// <summary>
/// The log of a process other than rank 0 in a run across processes: every process trains the same steps, so their
/// progress lines would repeat rank 0's; what is wrong on one of them still shows.
/// </summary>
/// <param name="inner">The process's logger.</param>
internal sealed class WarningsOnlyLogger(ILogger inner) : ILogger
{
    /// <inheritdoc />
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

    /// <inheritdoc />
    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning && inner.IsEnabled(logLevel);

    /// <inheritdoc />
    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (IsEnabled(logLevel))
        {
            inner.Log(logLevel, eventId, state, exception, formatter);
        }
    }
}
