namespace MtlHost.Worker;

/// <summary>What rank 0 decided at a step boundary for every process of a <c>serve</c> under <c>mpirun</c>.</summary>
/// <param name="Paused">Whether training waits at this boundary (the processes exchange again after a pause poll).</param>
/// <param name="Actions">The operator's requests to carry out now, in the order they came.</param>
public sealed record ControlDecision(bool Paused, IReadOnlyList<ControlAction> Actions);
