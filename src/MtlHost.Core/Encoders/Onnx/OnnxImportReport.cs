namespace MtlHost.Core.Encoders.Onnx;

/// <summary>
/// What <see cref="OnnxBertImporter"/> read from an ONNX model and where each encoder parameter came from.
/// </summary>
/// <param name="Config">The encoder shape inferred from the model (dropout rates are BERT's defaults; ONNX graphs do not keep them).</param>
/// <param name="Sources">
/// For every encoder parameter, the ONNX initializer it was copied from, e.g.
/// <c>encoder.layer.0.attention.self.query.weight</c> → <c>927 (MatMul [in, out], transposed)</c>.
/// </param>
/// <param name="IgnoredInitializers">Initializers that are not encoder parameters (shape constants, <c>position_ids</c>, …).</param>
/// <param name="Elapsed">Wall-clock time of the import, reading included.</param>
public sealed record OnnxImportReport(
    BertConfig Config,
    IReadOnlyDictionary<string, string> Sources,
    IReadOnlyList<string> IgnoredInitializers,
    TimeSpan Elapsed)
{
    /// <summary>Names of the encoder parameters that were loaded (all of them, or the import fails).</summary>
    public IEnumerable<string> LoadedParameters => Sources.Keys;
}
