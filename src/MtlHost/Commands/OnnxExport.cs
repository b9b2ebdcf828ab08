using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using MtlHost.Abstractions;
using MtlHost.Cli;
using MtlHost.Core.Checkpoints;
using MtlHost.Core.Export.Onnx;
using MtlHost.Formats;
using MtlHost.Hosting;

namespace MtlHost.Commands;

/// <summary><c>mtlhost export --format onnx</c>: one ONNX model of the encoder and every standard head, for ONNX Runtime.</summary>
public static class OnnxExport
{
    /// <summary>Exports and prints what was written.</summary>
    /// <param name="checkpoint">The checkpoint folder.</param>
    /// <param name="outDirectory">The export folder.</param>
    /// <param name="quantization"><c>none</c> or <c>int8</c>.</param>
    /// <param name="plugins">
    /// With <c>int8</c>: the checkpoint's plugins folder, whose training texts calibrate SmoothQuant and GPTQ (<see cref="Int8Calibrator"/>);
    /// <see langword="null"/> for unsmoothed int8.
    /// </param>
    /// <param name="json">Whether to print one JSON object.</param>
    /// <param name="output">Where the summary goes.</param>
    /// <param name="threads">
    /// Threads of the calibration (ONNX Runtime's intra-op threads; without it, one) and of GPTQ (torch's; without it, torch's default),
    /// or <see langword="null"/>.
    /// </param>
    /// <returns>The exit code.</returns>
    /// <exception cref="UsageException">The checkpoint cannot be exported.</exception>
    public static int Run(string checkpoint, string outDirectory, string quantization, string? plugins, bool json, TextWriter output, int? threads = null)
    {
        if (plugins is not null && quantization != "int8")
        {
            throw new UsageException("mtlhost export: --plugins calibrates --quantize int8; add --quantize int8, or leave --plugins out.");
        }
        OnnxExportResult result;
        int calibrationTexts = 0;
        try
        {
            Int8Calibration? calibration = null;
            if (plugins is not null)
            {
                var texts = CalibrationTexts.Read(checkpoint, plugins);
                calibrationTexts = texts.Count;
                // GPTQ's linear algebra runs in torch.
                TorchThreads.Apply(threads, NullLogger.Instance);
                calibration = Int8Calibrator.Measure(checkpoint, texts, threads: threads ?? 1);
            }
            result = OnnxCheckpointExporter.Export(checkpoint, outDirectory, quantization, calibration);
        }
        catch (Exception e) when (e is CheckpointException or ArgumentException)
        {
            throw new UsageException($"mtlhost export: {e.Message}");
        }
        catch (TaskDataException e)
        {
            // A plugin whose training data cannot be read cannot calibrate: say which, as train would.
            throw new UsageException($"mtlhost export: calibrating int8 on the training texts of {plugins}: {e.Message}");
        }
        if (json)
        {
            output.WriteLine(JsonSerializer.Serialize(result, HostJson.Options));
            return MtlHostApplication.Success;
        }
        var size = (result.ModelBytes / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture);
        var precision = quantization != "int8" ? "fp32"
            : calibrationTexts > 0 ? $"int8 encoder matrix multiplications, SmoothQuant α {Int8Calibration.DefaultAlpha.ToString(CultureInfo.InvariantCulture)} and GPTQ rounding calibrated on {calibrationTexts} training texts"
            : "int8 encoder matrix multiplications, unsmoothed: give --plugins DIR to calibrate";
        output.WriteLine($"exported {Path.GetFullPath(checkpoint)} to {result.Directory} as ONNX ({precision}, {size} MiB):");
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
