using MtlHost.Core.Data;

namespace MtlHost.Core.Training;

/// <summary>A task's splits as read by its dataset adapter and tokenized, before it has a head.</summary>
/// <param name="Train">Encoded training examples.</param>
/// <param name="Validation">Encoded validation examples.</param>
public sealed record EncodedTaskData(IReadOnlyList<EncodedExample> Train, IReadOnlyList<EncodedExample> Validation);
