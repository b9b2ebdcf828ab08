namespace MtlHost.Abstractions.Messages;

/// <summary>
/// Maps paths inside hot reload's shadow copies (<c>/tmp/mtlhost-shadow/…/Spam.6/data/spam/train.jsonl</c>) back to the
/// plugin folder they were copied from (<c>plugins/Spam/data/spam/train.jsonl</c>), so that a message names the file the
/// plugin's author edits, not a temporary one that is gone after the run. A plugin's code and the SDK see only the copy
/// (they read from it), so the mapping is applied to the finished message, wherever one is made from a copy.
/// Internal to the SDK, shared with the host's assemblies.
/// </summary>
internal sealed class ShadowCopyPaths
{
    private readonly object _gate = new();
    // Longest copy first, so that a copy folder whose name extends another's (Spam.1.2 beside Spam.1) is mapped as itself.
    private (string Copy, string Original)[] _folders = [];

    /// <summary>Records that <paramref name="copyDirectory"/> is a copy of <paramref name="originalDirectory"/>.</summary>
    /// <param name="copyDirectory">The shadow copy's folder.</param>
    /// <param name="originalDirectory">The plugin folder it was copied from.</param>
    public void Add(string copyDirectory, string originalDirectory)
    {
        var copy = Path.TrimEndingDirectorySeparator(copyDirectory);
        var original = Path.TrimEndingDirectorySeparator(originalDirectory);
        lock (_gate)
        {
            // Readers take the array as it is; it is replaced, never changed.
            _folders = _folders.Where(f => f.Copy != copy).Append((Copy: copy, Original: original)).OrderByDescending(f => f.Copy.Length).ToArray();
        }
    }

    /// <summary>
    /// <paramref name="text"/> with every path inside a recorded copy replaced by the same path in its original folder.
    /// </summary>
    /// <param name="text">A message.</param>
    /// <returns>The message as the plugin's author should read it.</returns>
    public string ToOriginal(string text)
    {
        foreach (var (copy, original) in _folders)
        {
            text = Replace(text, copy, original);
        }
        return text;
    }

    /// <summary>
    /// <paramref name="text"/> with every path inside <paramref name="copyDirectory"/> replaced by the same path in
    /// <paramref name="originalDirectory"/>; unchanged when <paramref name="originalDirectory"/> is
    /// <see langword="null"/> (a plugin loaded in place, not from a copy).
    /// </summary>
    /// <param name="text">A message.</param>
    /// <param name="copyDirectory">The folder the plugin was loaded from.</param>
    /// <param name="originalDirectory">The plugin folder it was copied from, or <see langword="null"/>.</param>
    /// <returns>The message as the plugin's author should read it.</returns>
    public static string ToOriginal(string text, string copyDirectory, string? originalDirectory) =>
        originalDirectory is null
            ? text
            : Replace(text, Path.TrimEndingDirectorySeparator(copyDirectory), Path.TrimEndingDirectorySeparator(originalDirectory));

    private static string Replace(string text, string copy, string original)
    {
        if (copy.Length == 0 || copy == original)
        {
            return text;
        }
        var start = 0;
        while ((start = text.IndexOf(copy, start, StringComparison.Ordinal)) >= 0)
        {
            var end = start + copy.Length;
            // The folder itself, or a path in it: Spam.1 must not match the start of Spam.12 or Spam.1-old.
            if (end == text.Length || !IsNamePart(text[end]))
            {
                text = string.Concat(text.AsSpan(0, start), original, text.AsSpan(end));
                start += original.Length;
            }
            else
            {
                start = end;
            }
        }
        return text;
    }

    private static bool IsNamePart(char c) => char.IsLetterOrDigit(c) || c is '_' or '-';
}
