namespace MtlHost.Core.Distributed;

/// <summary>
/// Decisions that every rank must take alike although each rank only sees its own share: whether something failed, and
/// why. A rank that decided alone (to quarantine a task, to skip a step) would call other collectives than the rest and
/// leave them waiting; with these, every rank takes the decision of the lowest rank that failed.
/// </summary>
public static class ProcessGroupAgreement
{
    /// <summary>
    /// For each of a list of things that every rank tried (the same list, in the same order, on every rank), whether it
    /// failed on any rank, and the reason given by the lowest rank it failed on. A collective: one all-reduce of
    /// <c>count × Size</c> doubles, then one broadcast per thing that failed somewhere.
    /// </summary>
    /// <param name="group">The group.</param>
    /// <param name="failures">This rank's reason for each thing that failed here; <see langword="null"/> where it worked.</param>
    /// <returns>The same on every rank: <see langword="null"/> where it worked on every rank, else the lowest failing rank's reason.</returns>
    public static string?[] AgreeOnFailures(this IProcessGroup group, IReadOnlyList<string?> failures)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(failures);
        var agreed = failures.ToArray();
        if (group.Size == 1 || agreed.Length == 0)
        {
            return agreed;
        }
        // One column per rank: a sum of one-hot rows tells every rank which ranks failed, not only how many.
        var failed = new double[agreed.Length * group.Size];
        for (var i = 0; i < agreed.Length; i++)
        {
            failed[i * group.Size + group.Rank] = agreed[i] is null ? 0 : 1;
        }
        group.AllReduceSum(failed);
        for (var i = 0; i < agreed.Length; i++)
        {
            var first = Enumerable.Range(0, group.Size).FirstOrDefault(r => failed[i * group.Size + r] > 0, -1);
            // Every rank computed the same 'first', so every rank joins the same broadcasts.
            agreed[i] = first < 0 ? null : group.BroadcastString(group.Rank == first ? agreed[i] : null, first);
        }
        return agreed;
    }

    /// <summary>Whether one thing every rank tried failed on any rank, and why (see <see cref="AgreeOnFailures"/>).</summary>
    /// <param name="group">The group.</param>
    /// <param name="failure">This rank's reason, or <see langword="null"/> when it worked here.</param>
    /// <returns>The same on every rank: <see langword="null"/> when it worked on every rank, else the lowest failing rank's reason.</returns>
    public static string? AgreeOnFailure(this IProcessGroup group, string? failure) => group.AgreeOnFailures([failure])[0];

    /// <summary>Whether any rank says <see langword="true"/>: one all-reduce of one double.</summary>
    /// <param name="group">The group.</param>
    /// <param name="value">This rank's answer.</param>
    /// <returns>The same on every rank: whether any rank answered <see langword="true"/>.</returns>
    public static bool AnyRank(this IProcessGroup group, bool value)
    {
        ArgumentNullException.ThrowIfNull(group);
        Span<double> flag = [value ? 1 : 0];
        group.AllReduceSum(flag);
        return flag[0] > 0;
    }
}
