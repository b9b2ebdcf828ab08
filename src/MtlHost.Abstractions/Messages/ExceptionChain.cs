using System.Reflection;

namespace MtlHost.Abstractions.Messages;

/// <summary>
/// Turns an exception that a plugin's code threw into one line of a refusal or quarantine reason, with every inner
/// exception: <c>TypeInitializationException: The type initializer for 'X' threw an exception. ← CultureNotFoundException: …</c>.
/// The outer exception alone is often a wrapper whose message says nothing (a type initializer, a reflection call),
/// and the cause a plugin author can act on is further in. Internal to the SDK, shared with the host's assemblies,
/// so that plugins never see it.
/// </summary>
internal static class ExceptionChain
{
    /// <summary>Stands between an exception and the one it wraps.</summary>
    public const string Separator = " ← ";

    // Enough for any real chain; a bound, because a pathological InnerException graph must not hang a message.
    private const int MaxLinks = 8;

    /// <summary>
    /// Type and message of <paramref name="exception"/> and of each inner exception, outermost first. Wrappers that add
    /// nothing (<see cref="TargetInvocationException"/>, an <see cref="AggregateException"/> of one exception) are left
    /// out; each message is put on one line.
    /// </summary>
    /// <param name="exception">The exception.</param>
    /// <returns>One line, such as <c>InvalidOperationException: outer ← FormatException: inner</c>.</returns>
    public static string Describe(Exception exception) => string.Join(Separator, Links(exception));

    /// <summary>
    /// The message of <paramref name="exception"/> without its type, followed by its inner exceptions as
    /// <see cref="Describe"/> writes them: for exceptions whose message is already a sentence for the plugin's author,
    /// such as a <see cref="TaskDataException"/>.
    /// </summary>
    /// <param name="exception">The exception.</param>
    /// <returns>One line.</returns>
    public static string MessageWithCauses(Exception exception)
    {
        var message = OneLine(exception.Message);
        var causes = exception.InnerException is { } inner ? Links(inner).ToList() : [];
        // A message that only repeats its cause's: the cause says it with its type.
        if (causes.Count > 0 && causes[0].EndsWith(": " + message, StringComparison.Ordinal))
        {
            return string.Join(Separator, causes);
        }
        return string.Join(Separator, causes.Prepend(message));
    }

    private static IEnumerable<string> Links(Exception exception)
    {
        string? previous = null;
        var current = Unwrap(exception);
        for (var count = 0; current is not null && count < MaxLinks; count++)
        {
            var message = OneLine(current.Message);
            var link = message.Length == 0 ? current.GetType().Name : $"{current.GetType().Name}: {message}";
            // Some wrappers repeat their cause word for word; say it once.
            if (link != previous)
            {
                yield return link;
            }
            previous = link;
            // An aggregate of several exceptions already lists each message in its own.
            current = current is AggregateException { InnerExceptions.Count: > 1 } ? null : Unwrap(current.InnerException);
        }
    }

    private static Exception? Unwrap(Exception? exception)
    {
        while (exception is TargetInvocationException { InnerException: not null } || exception is AggregateException { InnerExceptions.Count: 1 })
        {
            exception = exception.InnerException;
        }
        return exception;
    }

    private static string OneLine(string message) =>
        string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
