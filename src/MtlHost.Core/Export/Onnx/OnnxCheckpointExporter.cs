using System.Globalization;
using MtlHost.Core.Checkpoints;
using MtlHost.Core.Encoders;
using MtlHost.Core.Sharing;
using MtlHost.Predictions.Onnx;

namespace MtlHost.Core.Export.Onnx;

/// <summary>
/// Exports a checkpoint as one ONNX model for ONNX Runtime: the fine-tuned encoder, built from its structure
/// (<see cref="BertOnnxGraph"/>), every encoder branch of <c>--sharing top-layers</c> or <c>adapters</c>, and every task
/// whose head is a standard one as outputs (<c>&lt;task&gt;_logits</c>, <c>&lt;task&gt;_token_logits</c>,
/// <c>&lt;task&gt;_value</c>); with the vocabulary (<c>vocab.txt</c>) and <c>mtlhost-onnx.json</c>
/// (<see cref="OnnxModelDescription"/>). Reads the weight files directly, so no plugin is needed.
/// </summary>
public static class OnnxCheckpointExporter
{
    /// <summary>Name of the model file in the export folder.</summary>
    public const string ModelFile = "model.onnx";

    /// <summary>Name of the vocabulary file in the export folder.</summary>
    public const string VocabularyFile = "vocab.txt";

    /// <summary>The quantizations <see cref="Export"/> knows: <c>none</c> (fp32) and <c>int8</c>.</summary>
    public static IReadOnlyList<string> Quantizations { get; } = ["none", "int8"];

    /// <summary>Exports a checkpoint.</summary>
    /// <param name="checkpointDirectory">The checkpoint folder.</param>
    /// <param name="outDirectory">The export folder; created, and files of an earlier export in it are replaced.</param>
    /// <param name="quantization"><c>none</c>, or <c>int8</c> for dynamically quantized matrix multiplications in the encoder's layers.</param>
    /// <param name="calibration">
    /// Activation maxima from <see cref="ExportCalibrationProbe"/> to smooth the int8 matrix multiplications' inputs with
    /// (SmoothQuant), and input correlations to round their int8 weights with (GPTQ), or <see langword="null"/> for none. Smoothing does not change the function the model computes, only
    /// where int8 rounds; with <c>none</c> it is applied all the same (the fp32 model then differs from the unsmoothed one by
    /// float rounding only).
    /// </param>
    /// <returns>What was written.</returns>
    /// <exception cref="CheckpointException">The checkpoint is missing, incomplete or damaged, or has no task that can be exported.</exception>
    /// <exception cref="ArgumentException">
    /// <paramref name="quantization"/> is not one of <see cref="Quantizations"/>, or <paramref name="calibration"/> lacks a site of this checkpoint.
    /// </exception>
    public static OnnxExportResult Export(string checkpointDirectory, string outDirectory, string quantization = "none", Int8Calibration? calibration = null)
    {
        if (!Quantizations.Contains(quantization))
        {
            throw new ArgumentException($"Quantization '{quantization}' is unknown; use one of {string.Join(", ", Quantizations)}.", nameof(quantization));
        }
        return Write(checkpointDirectory, outDirectory, quantization, new BertOnnxGraphOptions(quantization == "int8", calibration, Probe: false)).Result;
    }

    /// <summary>The prefix of the calibration probe's max |x| outputs (<see cref="CalibrationProbeOutput"/>).</summary>
    public const string CalibrationOutputPrefix = "calibration/";

    /// <summary>The prefix of the calibration probe's Σ x xᵀ outputs (<see cref="CalibrationProbeOutput"/>).</summary>
    public const string CorrelationOutputPrefix = "calibration-correlation/";

    // A branch's weights are named after it in the graph ("branch spam/layer.4.…").
    private const string BranchSource = "branch ";

    /// <summary>
    /// Exports the fp32 model with two more outputs per input of the encoder's quantizable matrix multiplications: that
    /// input's max |x| per channel over the run's tokens, [channels], and Σ x xᵀ over them, [channels, channels]; padding
    /// counts in neither. Run it over batches of training texts, and take the channel-wise maximum and the sum over the runs
    /// of each site, counting a branch's outputs for its own tasks' texts only, for <see cref="Int8Calibration"/>.
    /// </summary>
    /// <param name="checkpointDirectory">The checkpoint folder.</param>
    /// <param name="outDirectory">The folder for the probe (an fp32 export with the extra outputs).</param>
    /// <returns>What was written, and the probe's outputs.</returns>
    /// <exception cref="CheckpointException">The checkpoint is missing, incomplete or damaged, or has no task that can be exported.</exception>
    public static (OnnxExportResult Export, IReadOnlyList<CalibrationProbeOutput> ProbeOutputs) ExportCalibrationProbe(string checkpointDirectory, string outDirectory)
        => Write(checkpointDirectory, outDirectory, "none", new BertOnnxGraphOptions(Quantize: false, Calibration: null, Probe: true));

    private sealed record BertOnnxGraphOptions(bool Quantize, Int8Calibration? Calibration, bool Probe);

    private static (OnnxExportResult Result, IReadOnlyList<CalibrationProbeOutput> Probes) Write(string checkpointDirectory, string outDirectory, string quantization,
        BertOnnxGraphOptions options)
    {
        var source = Path.GetFullPath(checkpointDirectory);
        var manifest = CheckpointReader.ReadManifest(source);
        var config = CheckpointEncoder.ConfigOf(source, manifest);
        var encoder = WeightSet.Read(BertOnnxGraph.EncoderSource, CheckpointReader.RequireFile(source, manifest.Encoder.File, "encoder weights"));
        var branches = manifest.Branches.ToDictionary(b => b.Name,
            b => (b.Strategy, Weights: WeightSet.Read(BranchSource + b.Name, CheckpointReader.RequireFile(source, b.File, $"weights of encoder branch '{b.Name}'"))),
            StringComparer.Ordinal);

        var graph = new OnnxGraphBuilder();
        var bert = new BertOnnxGraph(graph, config, options.Quantize, options.Calibration, options.Probe);
        var embedded = bert.Embed(encoder);
        var mask = bert.AdditiveMask();
        // The shared layers' outputs, computed once: hard sharing reads the last, a top-layers branch the one below its own layers.
        var trunk = new List<string> { embedded };
        string Trunk(int layers)
        {
            for (var i = trunk.Count - 1; i < layers; i++)
            {
                trunk.Add(bert.Layer(trunk[i], mask, encoder, $"encoder.layer.{i}."));
            }
            return trunk[layers];
        }
        var branchOutputs = new Dictionary<string, string>(StringComparer.Ordinal);
        string BranchOutput(string name)
        {
            if (branchOutputs.TryGetValue(name, out var done))
            {
                return done;
            }
            var (strategy, weights) = branches[name];
            string hidden;
            if (strategy == TopLayerSharing.StrategyName)
            {
                var own = weights.Tensors.Keys.Select(BertOnnxGraph.LayerIndex).Where(i => i >= 0).Distinct().Order().ToList();
                if (own.Count == 0)
                {
                    throw new CheckpointException($"Encoder branch '{name}' holds no copied layer; the checkpoint is damaged.");
                }
                hidden = Trunk(own[0]);
                foreach (var i in own)
                {
                    hidden = bert.Layer(hidden, mask, weights, $"layer.{i}.", branch: name);
                }
            }
            else
            {
                hidden = embedded;
                for (var i = 0; i < config.LayerCount; i++)
                {
                    hidden = bert.Layer(hidden, mask, encoder, $"encoder.layer.{i}.", (weights, $"layer.{i}."), name);
                }
            }
            branchOutputs[name] = hidden;
            return hidden;
        }

        var exported = new List<OnnxTaskOutput>();
        var skipped = new List<OnnxSkippedTask>();
        var hard = string.Equals(manifest.Sharing, HardSharing.StrategyName, StringComparison.OrdinalIgnoreCase);
        foreach (var task in manifest.Tasks.OrderBy(t => t.Id, StringComparer.Ordinal))
        {
            var head = WeightSet.Read($"head {task.Id}", CheckpointReader.RequireFile(source, task.HeadFile, $"head weights of task '{task.Id}'"));
            var reason = OnnxHeads.NotStandardReason(task, head, config.HiddenSize);
            var branch = hard ? null : BranchOf(task.Id, branches.Keys);
            if (reason is null && !hard && branch is null)
            {
                reason = $"the checkpoint was trained with --sharing {manifest.Sharing} and has no encoder branch named after the task or an unnamed " +
                         $"group holding it (branches: {string.Join(", ", branches.Keys)}); named --task-groups cannot be matched to their tasks";
            }
            if (reason is not null)
            {
                skipped.Add(new OnnxSkippedTask(task.Id, task.Kind, task.State, reason));
                continue;
            }
            exported.Add(OnnxHeads.Add(bert, task, head, branch is null ? Trunk(config.LayerCount) : BranchOutput(branch), branch));
        }
        if (exported.Count == 0)
        {
            throw new CheckpointException($"No task of checkpoint '{source}' can be exported as ONNX: " +
                                          string.Join("; ", skipped.Select(s => $"'{s.Id}': {s.Reason}")) + ".");
        }

        var target = Path.GetFullPath(outDirectory);
        Directory.CreateDirectory(target);
        var modelPath = Path.Combine(target, ModelFile);
        graph.Write(modelPath, "mtlhost", new Dictionary<string, string>
        {
            ["mtlhost.checkpoint"] = source,
            ["mtlhost.step"] = manifest.Step.ToString(CultureInfo.InvariantCulture),
            ["mtlhost.encoder"] = manifest.Encoder.Name,
            ["mtlhost.quantization"] = quantization,
            ["mtlhost.smoothing"] = options.Calibration is { } smoothing ? $"SmoothQuant alpha {smoothing.Alpha.ToString(CultureInfo.InvariantCulture)}" : "none",
            ["mtlhost.rounding"] = options.Quantize ? options.Calibration?.InputCorrelations is null ? "nearest" : "GPTQ" : "none",
        });
        using (var vocabulary = MiniLmPackage.OpenVocabulary())
        using (var copy = File.Create(Path.Combine(target, VocabularyFile)))
        {
            vocabulary.CopyTo(copy);
        }
        var description = new OnnxModelDescription
        {
            Model = ModelFile,
            Vocabulary = VocabularyFile,
            Quantization = quantization,
            Checkpoint = source,
            Step = manifest.Step,
            Encoder = manifest.Encoder.Name,
            MaxLength = manifest.Encoder.MaxLength,
            Sharing = manifest.Sharing,
            Tasks = exported,
            NotExported = skipped,
        };
        description.Write(target);
        return (new OnnxExportResult(target, [ModelFile, VocabularyFile, OnnxModelDescription.FileName], quantization,
            new FileInfo(modelPath).Length, exported, skipped), bert.ProbeOutputs);
    }

    // As the predictor finds it: a branch named after the task, or the one unnamed group ('a+b') that holds it.
    private static string? BranchOf(string taskId, IEnumerable<string> branches)
    {
        var names = branches.ToList();
        if (names.Contains(taskId, StringComparer.Ordinal))
        {
            return taskId;
        }
        var groups = names.Where(b => b.Split('+').Contains(taskId, StringComparer.Ordinal)).ToList();
        return groups.Count == 1 ? groups[0] : null;
    }
}
