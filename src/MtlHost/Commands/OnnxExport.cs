using System.Globalization;
using System.Text.Json;
using MtlHost.Cli;
using MtlHost.Core.Checkpoints;
using MtlHost.Core.Export.Onnx;
using MtlHost.Formats;

namespace MtlHost.Commands;

/// <summary><c>mtlhost export --format onnx</c>: one ONNX model of the encoder and every standard head, for ONNX Runtime.</summary>
public static class OnnxExport
{
    /// <summary>Exports and prints what was written.</summary>
    /// <param name="checkpoint">The checkpoint folder.</param>
    /// <param name="outDirectory">The export folder.</param>
    /// <param name="quantization"><c>none</c> or <c>int8</c>.</param>
    /// <param name="json">Whether to print one JSON object.</param>
    /// <param name="output">Where the summary goes.</param>
    /// <returns>The exit code.</returns>
    /// <exception cref="UsageException">The checkpoint cannot be exported.</exception>
    public static int Run(string checkpoint, string outDirectory, string quantization, bool json, TextWriter output)
    {
        OnnxExportResult result;
        try
        {
            result = OnnxCheckpointExporter.Export(checkpoint, outDirectory, quantization);
        }
        catch (CheckpointException e)
        {
            throw new UsageException($"mtlhost export: {e.Message}");
        }
        if (json)
        {
            output.WriteLine(JsonSerializer.Serialize(result, HostJson.Options));
            return MtlHostApplication.Success;
        }
        var size = (result.ModelBytes / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture);
        output.WriteLine($"exported {Path.GetFullPath(checkpoint)} to {result.Directory} as ONNX ({(quantization == "int8" ? "int8 encoder matrix multiplications" : "fp32")}, {size} MiB):");
        foreach (var file in result.Files)
        {
            output.WriteLine($"  {file}");
        }
        output.WriteLine($"outputs: {string.Join(", ", result.Tasks.Select(t => t.Output))}");
        foreach (var skipped in result.NotExported)
        {
            output.WriteLine($"not exported: task '{skipped.Id}': {skipped.Reason}");
        }
        output.WriteLine("predict with it: mtlhost predict --onnx DIR --text TEXT, or in code with the MtlHost.Inference.Onnx package.");
        return MtlHostApplication.Success;
    }
}
