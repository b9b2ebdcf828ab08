namespace MtlHost.Core.Sharing;

/// <summary>
/// Which tasks are declared related and so share one encoder branch (their copied top layers or
/// their adapters); a task in no group has a branch of its own.
/// </summary>
/// <remarks>
/// Written as <c>name: task, task; name: task, task</c> (<c>--task-groups</c>, <c>Sharing:TaskGroups</c>);
/// a group without a name is named after its tasks joined by <c>+</c>.
/// </remarks>
public sealed class TaskGroups
{
    private readonly Dictionary<string, string> _groupOf;

    private TaskGroups(Dictionary<string, string> groupOf) => _groupOf = groupOf;

    /// <summary>No groups: every task has its own branch.</summary>
    public static TaskGroups None { get; } = new(new Dictionary<string, string>(StringComparer.Ordinal));

    /// <summary>The group of each grouped task, by task id.</summary>
    public IReadOnlyDictionary<string, string> GroupOf => _groupOf;

    /// <summary>Reads the written form.</summary>
    /// <param name="text">The groups, or <see langword="null"/> or blank for none.</param>
    /// <returns>The groups.</returns>
    /// <exception cref="ArgumentException">A group is empty, or a task is in two groups.</exception>
    public static TaskGroups Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return None;
        }
        var groupOf = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var part in text.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var colon = part.IndexOf(':');
            var members = (colon < 0 ? part : part[(colon + 1)..])
                .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (members.Length == 0)
            {
                throw new ArgumentException($"--task-groups: the group '{part}' names no task; write 'name: task, task; name: task, task'.");
            }
            var name = colon < 0 ? string.Join("+", members) : part[..colon].Trim();
            foreach (var member in members)
            {
                if (!groupOf.TryAdd(member, name))
                {
                    throw new ArgumentException($"--task-groups: task '{member}' is in two groups ('{groupOf[member]}' and '{name}'); a task shares one branch.");
                }
            }
        }
        return new TaskGroups(groupOf);
    }

    /// <summary>The branch a task uses: its group's name, or its own id.</summary>
    /// <param name="taskId">The task.</param>
    /// <returns>The branch name.</returns>
    public string BranchOf(string taskId) => _groupOf.TryGetValue(taskId, out var group) ? group : taskId;
}
