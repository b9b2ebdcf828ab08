namespace MtlHost.Abstractions;

/// <summary>
/// Finds the field a data line most probably meant when it lacks an expected one: <c>text_piar</c> for
/// <c>text_pair</c>, <c>Label</c> for <c>label</c>, <c>lable</c> for <c>label</c>. Case is ignored and swapping two
/// neighbouring letters counts as one edit (optimal string alignment distance), since those are the usual slips.
/// </summary>
internal static class FieldSuggestion
{
    /// <summary>The name among <paramref name="present"/> closest to <paramref name="expected"/>, if it is close enough to be a misspelling of it.</summary>
    /// <param name="expected">The field the line lacks.</param>
    /// <param name="present">Names of the line's fields that the task does not use, in line order.</param>
    /// <returns>The likely misspelling, or <see langword="null"/>.</returns>
    public static string? Closest(string expected, IEnumerable<string> present)
    {
        // About one slip per three letters, at least one and at most three: "txt" is "text", "id" is not.
        var limit = Math.Clamp(expected.Length / 3, 1, 3);
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var name in present)
        {
            var distance = Distance(expected.ToLowerInvariant(), name.ToLowerInvariant());
            if (distance <= limit && distance < bestDistance)
            {
                best = name;
                bestDistance = distance;
            }
        }
        return best;
    }

    /// <summary>Edits (insert, delete, substitute, swap two neighbours) that turn <paramref name="a"/> into <paramref name="b"/>.</summary>
    /// <param name="a">One string.</param>
    /// <param name="b">The other.</param>
    /// <returns>The optimal string alignment distance.</returns>
    public static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }
        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }
        return d[a.Length, b.Length];
    }
}
