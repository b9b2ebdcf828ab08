using Microsoft.Extensions.Logging;

namespace MtlHost.Tests.Infrastructure;

/// <summary>A logger that keeps every formatted message, from any thread, for tests to read.</summary>
public sealed class ListLogger : ILogger
{
    private readonly List<string> _messages = [];

    /// <summary>The messages so far, oldest first.</summary>
    public IReadOnlyList<string> Messages
    {
        get
        {
            lock (_messages)
            {
                return _messages.ToList();
            }
        }
    }

    /// <inheritdoc />
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    /// <inheritdoc />
    public bool IsEnabled(LogLevel logLevel) => true;

    /// <inheritdoc />
    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (_messages)
        {
            _messages.Add(formatter(state, exception));
        }
    }
}
