using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using MtlHost.Abstractions;
using MtlHost.Core.Checkpoints;
using MtlHost.Core.Encoders;
using MtlHost.Core.Kinds;

namespace MtlHost.Core.Export;

/// <summary>
/// Exports a checkpoint for use outside .NET: <c>encoder.safetensors</c> (tensor names are Hugging Face <c>BertModel</c>
/// state-dict names already, so they load into <c>BertModel</c> as they are), <c>heads/&lt;task&gt;.safetensors</c>,
/// <c>branches/&lt;name&gt;.safetensors</c> for non-hard sharing, the tokenizer's <c>vocab.txt</c>, and
/// <c>mtlhost-export.json</c>: the encoder's configuration in Hugging Face <c>config.json</c> terms and, per task, its
/// kind, labels, head tensors and how the head computes its outputs.
/// </summary>
/// <remarks>Reads the weight files directly (<see cref="TorchSharpStateFile"/>), so no plugin is needed.</remarks>
public static class CheckpointExporter
{
    /// <summary>Name of the description file in the export folder.</summary>
    public const string DescriptionFile = "mtlhost-export.json";

    /// <summary>Name of the encoder's weights in the export folder.</summary>
    public const string EncoderFile = "encoder.safetensors";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Exports a checkpoint.</summary>
    /// <param name="checkpointDirectory">The checkpoint folder.</param>
    /// <param name="outDirectory">The export folder; created, and files of an earlier export in it are replaced.</param>
    /// <returns>What was written.</returns>
    /// <exception cref="CheckpointException">The checkpoint is missing, incomplete or damaged.</exception>
    public static ExportResult Export(string checkpointDirectory, string outDirectory)
    {
        var source = Path.GetFullPath(checkpointDirectory);
        var manifest = CheckpointReader.ReadManifest(source);
        if (!EncoderCatalog.IsKnown(manifest.Encoder.Name))
        {
            throw new CheckpointException($"Checkpoint '{source}' names encoder '{manifest.Encoder.Name}', which this host does not know ({string.Join(", ", EncoderCatalog.Names)}).");
        }
        var config = EncoderCatalog.ConfigOf(manifest.Encoder.Name);
        var target = Path.GetFullPath(outDirectory);
        Directory.CreateDirectory(target);
        var files = new List<string>();
        var tensorCount = 0;

        var encoderTensors = CheckpointReader.ReadWeights(CheckpointReader.RequireFile(source, manifest.Encoder.File, "encoder weights"));
        var meta = new Dictionary<string, string>
        {
            ["format"] = "pt",
            ["mtlhost.encoder"] = manifest.Encoder.Name,
            ["mtlhost.step"] = manifest.Step.ToString(CultureInfo.InvariantCulture),
        };
        SafeTensorsFile.Write(Path.Combine(target, EncoderFile), encoderTensors, meta);
        files.Add(EncoderFile);
        tensorCount += encoderTensors.Count;

        using (var vocabulary = MiniLmPackage.OpenVocabulary())
        using (var copy = File.Create(Path.Combine(target, "vocab.txt")))
        {
            vocabulary.CopyTo(copy);
        }
        files.Add("vocab.txt");

        var tasks = new JsonArray();
        foreach (var task in manifest.Tasks)
        {
            var kind = TaskKindHandler.Named(task.Kind)
                ?? throw new CheckpointException($"Checkpoint '{source}': task '{task.Id}' has kind '{task.Kind}', which this host does not know " +
                                                 $"({string.Join(", ", Enum.GetNames<TaskKind>())}).");
            var tensors = CheckpointReader.ReadWeights(CheckpointReader.RequireFile(source, task.HeadFile, $"head weights of task '{task.Id}'"));
            var file = $"heads/{task.Id}.safetensors";
            SafeTensorsFile.Write(Path.Combine(target, file), tensors, new Dictionary<string, string>(meta) { ["mtlhost.task"] = task.Id });
            files.Add(file);
            tensorCount += tensors.Count;
            tasks.Add(new JsonObject
            {
                ["id"] = task.Id,
                ["version"] = task.Version,
                ["kind"] = task.Kind,
                ["state"] = task.State,
                ["labels"] = new JsonArray(task.Labels.Select(l => (JsonNode)JsonValue.Create(l)).ToArray()),
                ["plugin"] = task.Plugin,
                ["plugin_sha256"] = task.PluginSha256,
                ["input"] = kind.ExportInput,
                ["head"] = new JsonObject
                {
                    ["file"] = file,
                    ["tensors"] = Shapes(tensors),
                    ["forward"] = DescribeHead(task, kind, tensors),
                },
            });
        }

        var branches = new JsonArray();
        foreach (var branch in manifest.Branches)
        {
            var tensors = CheckpointReader.ReadWeights(CheckpointReader.RequireFile(source, branch.File, $"weights of encoder branch '{branch.Name}'"));
            var file = $"branches/{branch.Name}.safetensors";
            SafeTensorsFile.Write(Path.Combine(target, file), tensors, new Dictionary<string, string>(meta) { ["mtlhost.branch"] = branch.Name });
            files.Add(file);
            tensorCount += tensors.Count;
            branches.Add(new JsonObject { ["name"] = branch.Name, ["strategy"] = branch.Strategy, ["file"] = file, ["tensors"] = Shapes(tensors) });
        }

        var description = new JsonObject
        {
            ["format"] = "mtlhost-export/1",
            ["checkpoint"] = new JsonObject
            {
                ["directory"] = source,
                ["step"] = manifest.Step,
                ["created_utc"] = manifest.CreatedUtc,
                ["seed"] = manifest.Seed,
                ["sdk_version"] = manifest.SdkVersion,
            },
            ["encoder"] = new JsonObject
            {
                ["name"] = manifest.Encoder.Name,
                ["file"] = EncoderFile,
                ["tensor_names"] = "Hugging Face BertModel state_dict names (embeddings.*, encoder.layer.N.*, pooler.*): " +
                                   "transformers.BertModel(BertConfig(**config)).load_state_dict(tensors) loads them as they are",
                ["max_length"] = manifest.Encoder.MaxLength,
                ["config"] = new JsonObject
                {
                    ["model_type"] = "bert",
                    ["architectures"] = new JsonArray("BertModel"),
                    ["vocab_size"] = config.VocabularySize,
                    ["hidden_size"] = config.HiddenSize,
                    ["num_hidden_layers"] = config.LayerCount,
                    ["num_attention_heads"] = config.HeadCount,
                    ["intermediate_size"] = config.IntermediateSize,
                    ["hidden_act"] = "gelu",
                    ["hidden_dropout_prob"] = config.HiddenDropout,
                    ["attention_probs_dropout_prob"] = config.AttentionDropout,
                    ["max_position_embeddings"] = config.MaxPositions,
                    ["type_vocab_size"] = config.TypeVocabularySize,
                    ["layer_norm_eps"] = config.LayerNormEpsilon,
                    ["pad_token_id"] = config.PadTokenId,
                    ["position_embedding_type"] = "absolute",
                },
                ["tokenizer"] = new JsonObject
                {
                    ["type"] = "BERT WordPiece, uncased (lower-case, strip accents), as transformers.BertTokenizer(vocab_file, do_lower_case=True)",
                    ["vocab_file"] = "vocab.txt",
                },
            },
            ["sharing"] = manifest.Sharing,
            ["branches"] = branches,
            ["tasks"] = tasks,
        };
        File.WriteAllText(Path.Combine(target, DescriptionFile), description.ToJsonString(Indented));
        files.Add(DescriptionFile);
        return new ExportResult(target, files, tensorCount);
    }


    private static JsonObject Shapes(IReadOnlyList<StoredTensor> tensors)
    {
        var shapes = new JsonObject();
        foreach (var tensor in tensors)
        {
            shapes[tensor.Name] = new JsonObject
            {
                ["dtype"] = tensor.DType,
                ["shape"] = new JsonArray(tensor.Shape.Select(s => (JsonNode)JsonValue.Create(s)).ToArray()),
            };
        }
        return shapes;
    }

    // Only the SDK's own heads can be described (their kind knows them); a plugin's own head is known by its tensors alone.
    private static string DescribeHead(CheckpointManifest.TaskEntry task, TaskKindHandler kind, IReadOnlyList<StoredTensor> tensors) =>
        kind.DescribeHead(tensors.Select(t => t.Name).Order(StringComparer.Ordinal).ToArray())
        ?? $"A head of plugin '{task.Plugin}''s own design: its tensors are listed here; rebuild its forward from the plugin's source " +
           $"(it maps h = last_hidden_state [B, T, H] and the attention mask to the {task.Kind} outputs).";
}
