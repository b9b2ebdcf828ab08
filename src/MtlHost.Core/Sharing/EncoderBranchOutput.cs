using static TorchSharp.torch;

namespace MtlHost.Core.Sharing;

/// <summary>
/// What a branch's forward returns.
/// </summary>
/// <param name="Hidden">Final hidden states, [B, T, H]: the input of the task heads.</param>
/// <param name="Shared">
/// The output of the part every branch shares, [B, T, H] (the representation MGDA-UB differentiates against):
/// layer k's output for <c>top-layers</c>; the final output for <c>hard</c> and for <c>adapters</c>
/// (adapters sit inside every layer, so no earlier tensor is branch-free and still the encoder's output).
/// For <c>hard</c> and <c>adapters</c> it is the same tensor object as <paramref name="Hidden"/>: dispose it once.
/// </param>
public sealed record EncoderBranchOutput(Tensor Hidden, Tensor Shared);
