using System.Text.Json;
using MtlHost.Formats;
using MtlHost.Cli;
using MtlHost.Core.Checkpoints;
using MtlHost.Core.Export;

namespace MtlHost.Commands;

/// <summary>
/// <c>mtlhost export</c>: writes a checkpoint as safetensors files with a description (<c>mtlhost-export.json</c>) that a
/// Python user can load (see <c>samples/export/load_export.py</c>), or with <c>--format onnx</c> as one ONNX model
/// (<see cref="OnnxExport"/>). Needs no plugin.
/// </summary>
public static class ExportCommand
{
    /// <summary>Runs the command.</summary>
    /// <param name="command">The parsed command line.</param>
    /// <param name="output">Where the summary goes.</param>
    /// <param name="threads"><c>--threads</c>: the threads an int8 export's calibration computes with, or <see langword="null"/> for the defaults.</param>
    /// <returns>The exit code.</returns>
    /// <exception cref="UsageException">An option is missing or the checkpoint cannot be used.</exception>
    public static int Run(ParsedCommand command, TextWriter output, int? threads = null)
    {
        var checkpoint = command.Get("checkpoint")
                         ?? throw new UsageException("mtlhost export: --checkpoint DIR is required: the checkpoint folder of a training run (<run>/checkpoint).");
        var outDirectory = command.Get("out") ?? throw new UsageException("mtlhost export: --out DIR is required: the folder to write the exported files to.");
        var quantize = command.Get("quantize");
        if (command.Get("format") == "onnx")
        {
            return OnnxExport.Run(checkpoint, outDirectory, quantize ?? "none", command.Get("plugins"), command.Has("json"), output, threads);
        }
        if (command.Get("plugins") is not null)
        {
            throw new UsageException("mtlhost export: --plugins calibrates --quantize int8 of --format onnx only; leave it out for safetensors.");
        }
        if (quantize is not null)
        {
            throw new UsageException($"mtlhost export: --quantize {quantize} applies to --format onnx only; add --format onnx, or leave --quantize out for safetensors.");
        }
        ExportResult result;
        try
        {
            result = CheckpointExporter.Export(checkpoint, outDirectory);
        }
        catch (CheckpointException e)
        {
            throw new UsageException($"mtlhost export: {e.Message}");
        }
        if (command.Has("json"))
        {
            output.WriteLine(JsonSerializer.Serialize(result, HostJson.Options));
            return MtlHostApplication.Success;
        }
        output.WriteLine($"exported {Path.GetFullPath(checkpoint)} to {result.Directory} ({result.TensorCount} tensors):");
        foreach (var file in result.Files)
        {
            output.WriteLine($"  {file}");
        }
        output.WriteLine("load it in Python with samples/export/load_export.py (standard library only; uses torch when installed).");
        return MtlHostApplication.Success;
    }
}
