using MtlHost.Dashboard;

namespace MtlHost.Deployment;

/// <summary>The body of <c>GET /api/status</c> of <c>serve --onnx</c>: what the service predicts with.</summary>
/// <param name="State">Always <see cref="Serving"/>: the service has no training run, so nothing else to report.</param>
/// <param name="Model">The export folder, absolute.</param>
/// <param name="Quantization"><c>none</c> (fp32) or <c>int8</c>.</param>
/// <param name="Checkpoint">The checkpoint folder the export was made from (as the export recorded it).</param>
/// <param name="Step">Training step of that checkpoint.</param>
/// <param name="Encoder">Catalog name of the encoder.</param>
/// <param name="Tasks">The tasks the export can predict, in id order.</param>
/// <param name="NotExported">Tasks of the checkpoint the export left out, with the reason.</param>
/// <param name="StartedAt">When the service started (UTC).</param>
/// <param name="Batches">Model runs so far (a batch asking for two different tasks counts two).</param>
/// <param name="Memory">The process's memory.</param>
public sealed record ExportStatusView(string State, string Model, string Quantization, string Checkpoint, int Step, string Encoder,
    IReadOnlyList<ExportTaskView> Tasks, IReadOnlyList<ExportTaskView> NotExported, DateTime StartedAt, long Batches, MemoryView Memory)
{
    /// <summary>The state of a service that serves an export.</summary>
    public const string Serving = "serving";
}

/// <summary>One task of an export, as <c>GET /api/status</c> of <c>serve --onnx</c> shows it.</summary>
/// <param name="Id">Task id.</param>
/// <param name="Kind">Its kind (<c>SequenceClassification</c>, …), as predictions name it.</param>
/// <param name="State">Its state in the checkpoint: <c>Training</c> tasks are predicted by default, others only when asked for by id.</param>
/// <param name="Labels">Its labels in index order (empty for regression); <see langword="null"/> for a task not exported.</param>
/// <param name="Reason">Why the export left it out; <see langword="null"/> for an exported task.</param>
public sealed record ExportTaskView(string Id, string Kind, string State, IReadOnlyList<string>? Labels, string? Reason);
