namespace MtlHost.Core.Kinds;

/// <summary>How a task kind's examples are tokenized, and so which encoding of a text to predict on a kind's head reads.</summary>
public enum InputEncoding
{
    /// <summary>The whole text: <c>[CLS] text [SEP]</c>.</summary>
    Text,

    /// <summary>The text's whitespace-separated words, each tokenized on its own: <c>[CLS] words [SEP]</c>.</summary>
    Words,

    /// <summary>Two texts: <c>[CLS] text [SEP] pair [SEP]</c> with segment ids.</summary>
    Pair,
}
