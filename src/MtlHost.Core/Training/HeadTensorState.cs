using static TorchSharp.torch;

namespace MtlHost.Core.Training;

/// <summary>
/// One named tensor of a head as it was when the head left the run, with its AdamW moments when it
/// is a trained parameter. Every tensor is a host-owned copy, so nothing here keeps a plugin alive.
/// </summary>
/// <param name="Value">The tensor's values.</param>
/// <param name="OptimizerStep">AdamW's step count for the parameter; 0 for buffers and untrained parameters.</param>
/// <param name="ExpAvg">AdamW's first moment, or <see langword="null"/>.</param>
/// <param name="ExpAvgSq">AdamW's second moment, or <see langword="null"/>.</param>
public sealed record HeadTensorState(Tensor Value, long OptimizerStep, Tensor? ExpAvg, Tensor? ExpAvgSq);
