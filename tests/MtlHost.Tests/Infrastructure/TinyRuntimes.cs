using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MtlHost.Abstractions;
using MtlHost.Core.Encoders;
using MtlHost.Core.Tokenization;
using MtlHost.Core.Training;
using static TorchSharp.torch;

namespace MtlHost.Tests.Infrastructure;

/// <summary>The host's task preparation for in-process tasks, shaped for the tiny encoder on the CPU.</summary>
public static class TinyRuntimes
{
    private static readonly Lazy<BertWordPieceTokenizer> SharedTokenizer =
        new(() => BertWordPieceTokenizer.FromVocabulary(MiniLmPackage.OpenVocabulary()));

    /// <summary>The shared MiniLM WordPiece tokenizer, read once per test run.</summary>
    public static BertWordPieceTokenizer Tokenizer => SharedTokenizer.Value;

    /// <summary>Head options for the tiny encoder.</summary>
    public static HeadOptions HeadOptions
    {
        get
        {
            var config = EncoderCatalog.ConfigOf(EncoderCatalog.Tiny);
            return new HeadOptions(config.HiddenSize, config.HiddenDropout);
        }
    }

    /// <summary>A factory that prepares tasks for the tiny encoder on the CPU.</summary>
    /// <param name="options">Run options (maximum length, seed).</param>
    /// <returns>The factory.</returns>
    /// <param name="logger">Receives data problems; none by default.</param>
    public static TaskRuntimeFactory Factory(TrainingOptions options, ILogger? logger = null) =>
        new(Tokenizer, HeadOptions, CPU, options, logger ?? NullLogger.Instance);
}
