namespace MtlHost.Dashboard;

/// <summary>The process's memory, as <c>GET /api/status</c> shows it.</summary>
/// <param name="WorkingSetBytes">Resident memory of the process (managed, native tensors and code).</param>
/// <param name="GcHeapBytes">The managed heap.</param>
public sealed record MemoryView(long WorkingSetBytes, long GcHeapBytes);
