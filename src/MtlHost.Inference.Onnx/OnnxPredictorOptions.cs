namespace MtlHost.Inference.Onnx;

/// <summary>How an <see cref="OnnxMultiTaskPredictor"/> runs its ONNX Runtime session.</summary>
public sealed record OnnxPredictorOptions
{
    /// <summary>Threads one prediction computes with (ONNX Runtime's intra-op threads); 0 lets ONNX Runtime choose (one per core).</summary>
    public int IntraOpThreads { get; init; }
}
