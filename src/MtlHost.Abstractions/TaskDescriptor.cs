namespace MtlHost.Abstractions;

/// <summary>
/// Names a task and says what it is. The host keys heads, checkpoints and metrics by
/// <see cref="Id"/>, so it must stay the same across versions of the plugin.
/// </summary>
/// <param name="Id">
/// Stable identifier: lower-case letters, digits, '-', '_' and '.', starting with a letter
/// (for example <c>spam</c> or <c>wordnet.pos</c>).
/// </param>
/// <param name="Version">Version of the task; a replaced plugin reports old and new version.</param>
/// <param name="Kind">What an example, the head output and the targets look like.</param>
/// <param name="Labels">
/// Label names in index order for classification kinds (at least two for single-label kinds, one or
/// more for multi-label and token kinds); empty for <see cref="TaskKind.Regression"/>.
/// </param>
public sealed record TaskDescriptor(string Id, Version Version, TaskKind Kind, IReadOnlyList<string> Labels)
{
    /// <summary>Human-readable name for tables and the dashboard; defaults to <see cref="Id"/>.</summary>
    public string DisplayName { get; init; } = Id;

    /// <summary>Number of outputs the head produces per example (or per token).</summary>
    public int OutputSize => Kind == TaskKind.Regression ? 1 : Labels.Count;
}
