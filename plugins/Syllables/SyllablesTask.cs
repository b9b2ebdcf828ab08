using MtlHost.Abstractions;

namespace MtlHost.Samples.Syllables;

/// <summary>
/// How many syllables does an English word have? CMUdict pronunciations, counting the vowel phonemes
/// (those with a stress mark); a regression task scored by Pearson correlation, with MAE in syllables.
/// </summary>
public sealed class SyllablesTask : RegressionTask
{
    /// <inheritdoc />
    public override string Id => "syllables";

    /// <inheritdoc />
    public override string DisplayName => "CMUdict word → number of syllables";

    /// <summary>Words have 2 to 3 syllables on average; starting there spares the head that walk.</summary>
    protected override double InitialOutput => 2.5;
}
