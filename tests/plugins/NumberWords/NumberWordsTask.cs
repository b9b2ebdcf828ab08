using System.Globalization;
using Humanizer;
using MtlHost.Abstractions;

namespace MtlHost.TestPlugins;

/// <summary>
/// Is a number, written out in English and French words, even or odd? The words come from Humanizer, a
/// dependency of the plugin's own: its configuration is initialised when the task is created (at load
/// time) and the French words need the fr-FR culture, so the plugin only works in a host with real cultures.
/// </summary>
public sealed class NumberWordsTask : SequenceClassificationTask
{
    private readonly string _displayName;

    /// <summary>Creates the task; formats its display name with Humanizer.</summary>
    public NumberWordsTask() => _displayName = $"parity of numbers written out ({3.ToWords()}, …)";

    /// <inheritdoc />
    public override string Id => "number-words";

    /// <inheritdoc />
    public override string DisplayName => _displayName;

    /// <inheritdoc />
    public override IReadOnlyList<string> Labels => ["even", "odd"];

    /// <inheritdoc />
    public override ITaskDataset CreateDataset(TaskContext context) => new NumbersInWords();

    private sealed class NumbersInWords : ITaskDataset
    {
        // Named explicitly: the host's own culture is the invariant one, whatever the user's locale.
        private static readonly CultureInfo English = CultureInfo.GetCultureInfo("en-US");
        private static readonly CultureInfo French = CultureInfo.GetCultureInfo("fr-FR");

        public IEnumerable<TaskExample> Read(DataSplit split)
        {
            var first = split == DataSplit.Train ? 0 : 1000;
            return Enumerable.Range(first, 200).Select(n =>
                TaskExample.ForText($"{n.ToWords(English)} / {n.ToWords(French)}", n % 2 == 0 ? "even" : "odd", $"number {n}")).ToList();
        }
    }
}
