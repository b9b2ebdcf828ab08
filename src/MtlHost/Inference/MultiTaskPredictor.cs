using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MtlHost.Abstractions;
using MtlHost.Core.Checkpoints;
using MtlHost.Core.Encoders;
using MtlHost.Core.Inference;
using MtlHost.Core.Sharing;
using MtlHost.Core.Tokenization;
using MtlHost.Core.Training;
using MtlHost.Plugins;
using static TorchSharp.torch;

namespace MtlHost.Inference;

/// <summary>
/// Predicts every task of a checkpoint at once: the shared encoder runs once per batch of inputs and every head reads
/// its output (with <c>--sharing top-layers</c> or <c>adapters</c>, once per encoder branch). Loads only the plugin
/// DLLs the checkpoint's manifest names, and only when their SHA-256 is the one the checkpoint was trained with.
/// </summary>
/// <remarks>
/// Runs on the CPU, in evaluation mode, without gradients. Calls are serialised by a lock; for many concurrent callers
/// use <see cref="PredictionBatcher"/>, which also batches them. Disposing unloads the plugins.
/// </remarks>
public sealed class MultiTaskPredictor : IDisposable
{
    private static readonly Lazy<BertWordPieceTokenizer> SharedTokenizer =
        new(() => BertWordPieceTokenizer.FromVocabulary(MiniLmPackage.OpenVocabulary()));

    private readonly object _gate = new();
    private readonly BertEncoder _encoder;
    private readonly List<LoadedHead> _heads;
    private readonly List<LoadedPlugin> _plugins;
    private readonly PluginShadowCopier _shadow;
    private readonly BertWordPieceTokenizer _tokenizer;
    private List<EncoderBranch> _branches = [];
    private bool _disposed;

    private MultiTaskPredictor(string checkpointDirectory, CheckpointManifest manifest, BertEncoder encoder, List<LoadedHead> heads,
        List<LoadedPlugin> plugins, PluginShadowCopier shadow, IReadOnlyDictionary<string, string> unavailable)
    {
        CheckpointDirectory = checkpointDirectory;
        Step = manifest.Step;
        EncoderName = manifest.Encoder.Name;
        MaxLength = manifest.Encoder.MaxLength;
        _encoder = encoder;
        _heads = heads;
        _plugins = plugins;
        _shadow = shadow;
        _tokenizer = SharedTokenizer.Value;
        Tasks = heads.Select(h => h.Task).ToArray();
        Unavailable = unavailable;
    }

    /// <summary>The checkpoint folder, absolute.</summary>
    public string CheckpointDirectory { get; }

    /// <summary>Training step at which the checkpoint was written.</summary>
    public int Step { get; }

    /// <summary>Catalog name of the encoder (<c>minilm</c>, <c>tiny</c>, …).</summary>
    public string EncoderName { get; }

    /// <summary>Longest token sequence, as in training; longer inputs are truncated.</summary>
    public int MaxLength { get; }

    /// <summary>The tasks that can be predicted, in id order.</summary>
    public IReadOnlyList<PredictorTask> Tasks { get; }

    /// <summary>
    /// Quarantined or removed tasks of the checkpoint whose plugin could not be loaded (missing, changed), by task id,
    /// with the reason. A task that was training at checkpoint time and cannot be loaded fails <see cref="Load"/> instead.
    /// </summary>
    public IReadOnlyDictionary<string, string> Unavailable { get; }

    /// <summary>Loads a checkpoint and the plugins it was trained with.</summary>
    /// <param name="checkpointDirectory">A checkpoint folder (<c>manifest.json</c>, <c>encoder.bin</c>, <c>heads/</c>).</param>
    /// <param name="pluginsDirectory">The plugins folder holding the DLLs the manifest names.</param>
    /// <param name="logger">Receives what was loaded and what was skipped.</param>
    /// <returns>The predictor.</returns>
    /// <exception cref="CheckpointException">
    /// The checkpoint is missing or malformed, a task's encoder branch cannot be told (named task groups), or the plugin of a
    /// task that was training is missing, changed (another SHA-256) or refused.
    /// </exception>
    public static MultiTaskPredictor Load(string checkpointDirectory, string pluginsDirectory, ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(checkpointDirectory);
        ArgumentException.ThrowIfNullOrWhiteSpace(pluginsDirectory);
        logger ??= NullLogger.Instance;
        var directory = Path.GetFullPath(checkpointDirectory);
        var manifest = CheckpointReader.ReadManifest(directory);
        var encoder = LoadEncoder(directory, manifest);
        Dictionary<string, EncoderBranch> branches;
        try
        {
            branches = LoadBranches(directory, manifest, encoder);
        }
        catch
        {
            encoder.Dispose();
            throw;
        }
        var config = encoder.Config;
        var headOptions = new HeadOptions(config.HiddenSize, config.HiddenDropout);
        var heads = new List<LoadedHead>();
        var plugins = new List<LoadedPlugin>();
        var shadow = new PluginShadowCopier();
        var unavailable = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            var candidates = Discover(pluginsDirectory);
            var loader = new TaskPluginLoader(headOptions, logger);
            foreach (var group in manifest.Tasks.GroupBy(t => (t.Plugin, t.PluginAssembly, t.PluginSha256)))
            {
                var entries = group.OrderBy(t => t.Id, StringComparer.Ordinal).ToList();
                LoadedPlugin? plugin = null;
                var groupHeads = new List<LoadedHead>();
                try
                {
                    plugin = LoadPlugin(entries[0], candidates, pluginsDirectory, loader, shadow);
                    foreach (var entry in entries)
                    {
                        var branch = BranchOf(entry, manifest, branches);
                        groupHeads.Add(LoadHead(directory, entry, plugin, headOptions) with { Branch = branch });
                    }
                    plugins.Add(plugin);
                    heads.AddRange(groupHeads);
                }
                catch (CheckpointException e)
                {
                    // A plugin's tasks are loaded together or not at all, so no task is both predicted and unavailable.
                    foreach (var head in groupHeads)
                    {
                        head.Head.Dispose();
                    }
                    plugin?.Dispose();
                    if (entries.Any(t => t.State == PredictorTask.TrainingState))
                    {
                        throw;
                    }
                    foreach (var entry in entries)
                    {
                        unavailable[entry.Id] = e.Message;
                        logger.LogWarning("Task {Task} ({State} in the checkpoint) cannot be predicted: {Reason}", entry.Id, entry.State, e.Message);
                    }
                }
            }
        }
        catch
        {
            foreach (var head in heads)
            {
                head.Head.Dispose();
            }
            foreach (var plugin in plugins)
            {
                plugin.Dispose();
            }
            shadow.Dispose();
            foreach (var branch in branches.Values)
            {
                branch.Dispose();
            }
            encoder.Dispose();
            throw;
        }

        // Branches no loaded task uses (their tasks' plugins are gone) are freed now.
        foreach (var unused in branches.Values.Where(b => heads.All(h => !ReferenceEquals(h.Branch, b))).ToList())
        {
            branches.Remove(unused.BranchName);
            unused.Dispose();
        }
        heads.Sort((a, b) => string.CompareOrdinal(a.Task.Id, b.Task.Id));
        logger.LogInformation("Loaded checkpoint {Checkpoint} (step {Step}, encoder {Encoder}) with tasks {Tasks}", directory, manifest.Step,
            manifest.Encoder.Name, string.Join(", ", heads.Select(h => h.Task.Id)));
        return new MultiTaskPredictor(directory, manifest, encoder, heads, plugins, shadow, unavailable) { _branches = [.. branches.Values] };
    }

    /// <summary>Predicts a batch of inputs: one encoder pass for all of them and all tasks, then every head.</summary>
    /// <param name="inputs">The inputs.</param>
    /// <param name="taskId">
    /// One task to predict, by id (any state); <see langword="null"/> for every task that was training at checkpoint time.
    /// Pair-classification tasks are predicted for inputs with a <see cref="PredictionInput.Pair"/> and noted as skipped for the others.
    /// </param>
    /// <returns>One response per input, in input order.</returns>
    /// <exception cref="ArgumentException">
    /// The task is not in the checkpoint (the message lists the tasks), could not be loaded, or is a pair task and an input
    /// has no second text; or an input's text is empty.
    /// </exception>
    /// <exception cref="ObjectDisposedException">The predictor was disposed.</exception>
    public IReadOnlyList<PredictionResponse> Predict(IReadOnlyList<PredictionInput> inputs, string? taskId = null)
    {
        var selected = Check(inputs, taskId);
        if (inputs.Count == 0)
        {
            return [];
        }

        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return PredictLocked(inputs, selected);
        }
    }

    /// <summary>Disposes the encoder and heads and unloads the plugins.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            foreach (var head in _heads)
            {
                head.Head.Dispose();
            }
            foreach (var branch in _branches)
            {
                branch.Dispose();
            }
            _branches.Clear();
            _encoder.Dispose();
            foreach (var plugin in _plugins)
            {
                plugin.Dispose();
            }
            _plugins.Clear();
            _shadow.Dispose();
        }
    }

    /// <summary>Checks a request as <see cref="Predict"/> does, without predicting.</summary>
    /// <param name="inputs">The inputs.</param>
    /// <param name="taskId">The task asked for, or <see langword="null"/>.</param>
    /// <returns>The heads to run.</returns>
    /// <exception cref="ArgumentException">See <see cref="Predict"/>.</exception>
    internal List<LoadedHead> Check(IReadOnlyList<PredictionInput> inputs, string? taskId)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var selected = Select(taskId);
        for (var i = 0; i < inputs.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(inputs[i]?.Text))
            {
                throw new ArgumentException(inputs.Count == 1 ? "The text is empty; give a text to predict on." : $"Input {i}: the text is empty; give a text to predict on.");
            }
            if (taskId is not null && selected[0].Task.Kind == TaskKind.PairClassification && string.IsNullOrWhiteSpace(inputs[i].Pair))
            {
                throw new ArgumentException(
                    $"Task '{taskId}' is pair classification: it needs a second text (--pair TEXT, or \"pair\" in the request).");
            }
        }
        return selected;
    }

    private List<LoadedHead> Select(string? taskId)
    {
        if (taskId is null)
        {
            return _heads.Where(h => h.Task.IsDefault).ToList();
        }
        var head = _heads.FirstOrDefault(h => h.Task.Id == taskId);
        if (head is not null)
        {
            return [head];
        }
        if (Unavailable.TryGetValue(taskId, out var reason))
        {
            throw new ArgumentException($"Task '{taskId}' of the checkpoint cannot be predicted: {reason}");
        }
        throw new ArgumentException(
            $"Unknown task '{taskId}'; the checkpoint's tasks are {string.Join(", ", Tasks.Select(t => t.IsDefault ? t.Id : $"{t.Id} ({t.State})"))}.");
    }

    private List<PredictionResponse> PredictLocked(IReadOnlyList<PredictionInput> inputs, List<LoadedHead> heads)
    {
        var needText = heads.Any(h => h.Task.Kind is TaskKind.SequenceClassification or TaskKind.MultiLabelClassification or TaskKind.Regression);
        var needWords = heads.Any(h => h.Task.Kind == TaskKind.TokenClassification);
        var needPair = heads.Any(h => h.Task.Kind == TaskKind.PairClassification);

        // Every encoding of every input goes into one padded batch, so the encoder runs exactly once.
        var rows = new List<EncodedInput>();
        var textRow = new int[inputs.Count];
        var wordRow = new int[inputs.Count];
        var pairRow = new int[inputs.Count];
        var alignments = new WordAlignment?[inputs.Count];
        for (var i = 0; i < inputs.Count; i++)
        {
            var input = inputs[i];
            textRow[i] = wordRow[i] = pairRow[i] = -1;
            if (needText)
            {
                textRow[i] = rows.Count;
                rows.Add(_tokenizer.Encode(input.Text, MaxLength));
            }
            if (needWords)
            {
                var words = input.Text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
                var encoded = _tokenizer.EncodeWords(words, MaxLength);
                alignments[i] = new WordAlignment(words, encoded.WordIds);
                // Word-split text usually tokenizes exactly as the whole text: then the row is shared.
                if (textRow[i] >= 0 && rows[textRow[i]].InputIds.AsSpan().SequenceEqual(encoded.InputIds))
                {
                    wordRow[i] = textRow[i];
                }
                else
                {
                    wordRow[i] = rows.Count;
                    rows.Add(encoded);
                }
            }
            if (needPair && !string.IsNullOrWhiteSpace(input.Pair))
            {
                pairRow[i] = rows.Count;
                rows.Add(_tokenizer.EncodePair(input.Text, input.Pair, MaxLength));
            }
        }

        var perInput = Enumerable.Range(0, inputs.Count).Select(_ => new List<TaskPrediction>()).ToArray();
        var notes = Enumerable.Range(0, inputs.Count).Select(_ => new List<string>()).ToArray();
        if (rows.Count > 0)
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            var (ids, types, mask) = Collate(rows);
            int[] RowOf(LoadedHead head) => head.Task.Kind switch
            {
                TaskKind.TokenClassification => wordRow,
                TaskKind.PairClassification => pairRow,
                _ => textRow,
            };
            // With hard sharing there is one group and so one encoder pass; other strategies need a pass per branch.
            foreach (var group in heads.GroupBy(h => h.Branch))
            {
                var needed = group.SelectMany(h => RowOf(h).Where(r => r >= 0)).Distinct().Order().ToArray();
                if (needed.Length == 0)
                {
                    continue;
                }
                var position = new Dictionary<int, int>();
                for (var p = 0; p < needed.Length; p++)
                {
                    position[needed[p]] = p;
                }
                var (groupIds, groupTypes, groupMask) = needed.Length == rows.Count
                    ? (ids, types, mask)
                    : Select(needed, ids, types, mask);
                var hidden = group.Key is null
                    ? _encoder.forward(groupIds, groupTypes, groupMask)
                    : group.Key.Encode(_encoder, groupIds, groupTypes, groupMask).Hidden;
                foreach (var head in group)
                {
                    var rowOf = RowOf(head);
                    var members = Enumerable.Range(0, inputs.Count).Where(i => rowOf[i] >= 0).ToArray();
                    if (members.Length == 0)
                    {
                        continue;
                    }
                    var index = tensor(members.Select(i => (long)position[rowOf[i]]).ToArray());
                    var outputs = RunHead(head, hidden.index_select(0, index), groupMask.index_select(0, index));
                    var decoded = PredictionDecoder.Decode(head.Descriptor, outputs,
                        head.Task.Kind == TaskKind.TokenClassification ? members.Select(i => alignments[i]!).ToArray() : null);
                    for (var m = 0; m < members.Length; m++)
                    {
                        perInput[members[m]].Add(decoded[m]);
                    }
                }
            }
        }
        foreach (var head in heads.Where(h => h.Task.Kind == TaskKind.PairClassification))
        {
            for (var i = 0; i < inputs.Count; i++)
            {
                if (pairRow[i] < 0)
                {
                    notes[i].Add($"task '{head.Task.Id}' skipped: pair classification needs a second text (--pair TEXT, or \"pair\" in the request).");
                }
            }
        }
        return Enumerable.Range(0, inputs.Count).Select(i => new PredictionResponse(Step, perInput[i]) { Notes = notes[i] }).ToList();
    }

    private static Tensor RunHead(LoadedHead head, Tensor hidden, Tensor mask)
    {
        try
        {
            return head.Head.forward(hidden, mask);
        }
        catch (Exception e)
        {
            throw new InvalidOperationException($"The head of task '{head.Task.Id}' failed: {e.GetType().Name}: {e.Message}", e);
        }
    }

    private static (Tensor Ids, Tensor Types, Tensor Mask) Select(int[] rows, Tensor ids, Tensor types, Tensor mask)
    {
        var index = tensor(rows.Select(r => (long)r).ToArray());
        return (ids.index_select(0, index), types.index_select(0, index), mask.index_select(0, index));
    }

    private (Tensor Ids, Tensor Types, Tensor Mask) Collate(List<EncodedInput> rows)
    {
        var length = rows.Max(r => r.InputIds.Length);
        var ids = new long[rows.Count * length];
        var types = new long[rows.Count * length];
        var mask = new long[rows.Count * length];
        Array.Fill(ids, _tokenizer.PadId);
        for (var r = 0; r < rows.Count; r++)
        {
            var row = rows[r];
            for (var t = 0; t < row.InputIds.Length; t++)
            {
                ids[r * length + t] = row.InputIds[t];
                types[r * length + t] = row.TokenTypeIds[t];
                mask[r * length + t] = 1;
            }
        }
        long[] shape = [rows.Count, length];
        return (tensor(ids, shape), tensor(types, shape), tensor(mask, shape));
    }

    private static BertEncoder LoadEncoder(string directory, CheckpointManifest manifest)
    {
        var entry = manifest.Encoder;
        if (!EncoderCatalog.IsKnown(entry.Name))
        {
            throw new CheckpointException($"Checkpoint '{directory}' names encoder '{entry.Name}', which this host does not know ({string.Join(", ", EncoderCatalog.Names)}).");
        }
        var config = EncoderCatalog.ConfigOf(entry.Name);
        if (config.HiddenSize != entry.HiddenSize || config.LayerCount != entry.Layers || config.HeadCount != entry.Heads)
        {
            throw new CheckpointException($"Checkpoint '{directory}' has a {entry.Layers}-layer encoder of width {entry.HiddenSize} named '{entry.Name}', " +
                                          $"but this host's '{entry.Name}' is {config.LayerCount} layers of width {config.HiddenSize}; use the host version that wrote it.");
        }
        var path = CheckpointReader.RequireFile(directory, entry.File, "encoder weights");
        // Building draws initial weights from torch's generator, which a training step on another thread may be using.
        BertEncoder encoder;
        lock (TorchGenerator.Lock)
        {
            encoder = new BertEncoder(config);
        }
        try
        {
            encoder.load(path);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException or EndOfStreamException)
        {
            encoder.Dispose();
            throw new CheckpointException($"Encoder weights '{path}' cannot be read ({e.Message}); the checkpoint is damaged, write it again with a training run.", e);
        }
        encoder.eval();
        return encoder;
    }

    // The manifest names each branch and its strategy but not the strategy's options: they are read back from the
    // branch's own tensors (top-layers: the lowest copied layer is k; adapters: the bottleneck width).
    private static Dictionary<string, EncoderBranch> LoadBranches(string directory, CheckpointManifest manifest, BertEncoder encoder)
    {
        var branches = new Dictionary<string, EncoderBranch>(StringComparer.Ordinal);
        if (string.Equals(manifest.Sharing, HardSharing.StrategyName, StringComparison.OrdinalIgnoreCase))
        {
            return branches;
        }
        try
        {
            foreach (var entry in manifest.Branches)
            {
                var path = CheckpointReader.RequireFile(directory, entry.File, $"weights of encoder branch '{entry.Name}'");
                var tensors = ReadBranchTensors(path);
                SharingOptions options;
                switch (entry.Strategy)
                {
                    case TopLayerSharing.StrategyName:
                    {
                        var layers = tensors.Select(t => t.Name.Split('.')).Where(p => p.Length > 2 && p[0] == "layer" && int.TryParse(p[1], out _))
                            .Select(p => int.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture)).ToList();
                        if (layers.Count == 0)
                        {
                            throw new CheckpointException($"Encoder branch '{entry.Name}' ('{path}') holds no copied layer; the checkpoint is damaged.");
                        }
                        options = new SharingOptions(SharedLayers: layers.Min());
                        break;
                    }
                    case AdapterSharing.StrategyName:
                    {
                        var down = tensors.FirstOrDefault(t => t.Name.EndsWith("down.weight", StringComparison.Ordinal) && t.Shape.Count == 2)
                                   ?? throw new CheckpointException($"Encoder branch '{entry.Name}' ('{path}') holds no adapter; the checkpoint is damaged.");
                        options = new SharingOptions(AdapterSize: (int)down.Shape[0]);
                        break;
                    }
                    default:
                        throw new CheckpointException($"Encoder branch '{entry.Name}' was made by sharing strategy '{entry.Strategy}', which this host " +
                                                      $"cannot rebuild; it knows {string.Join(", ", SharingCatalog.Names)}.");
                }
                EncoderBranch branch;
                lock (TorchGenerator.Lock)
                {
                    branch = SharingCatalog.Create(entry.Strategy, options).CreateBranch(entry.Name, encoder);
                }
                branches[entry.Name] = branch;
                try
                {
                    branch.load(path);
                }
                catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException)
                {
                    throw new CheckpointException($"Encoder branch '{entry.Name}' ('{path}') does not fit a {entry.Strategy} branch of this encoder ({e.Message}).", e);
                }
                branch.eval();
            }
            return branches;
        }
        catch
        {
            foreach (var branch in branches.Values)
            {
                branch.Dispose();
            }
            throw;
        }
    }

    private static IReadOnlyList<MtlHost.Core.Export.StoredTensor> ReadBranchTensors(string path)
    {
        try
        {
            return MtlHost.Core.Export.TorchSharpStateFile.Read(path);
        }
        catch (InvalidDataException e)
        {
            throw new CheckpointException($"'{path}' cannot be read ({e.Message}); the checkpoint is damaged, write it again with a training run.", e);
        }
    }

    // A task's branch is named after the task, or after its task group; an unnamed group is named after its tasks joined by '+'.
    private static EncoderBranch? BranchOf(CheckpointManifest.TaskEntry task, CheckpointManifest manifest, Dictionary<string, EncoderBranch> branches)
    {
        if (string.Equals(manifest.Sharing, HardSharing.StrategyName, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        if (branches.TryGetValue(task.Id, out var own))
        {
            return own;
        }
        var group = branches.Values.Where(b => b.BranchName.Split('+').Contains(task.Id, StringComparer.Ordinal)).ToList();
        if (group.Count == 1)
        {
            return group[0];
        }
        throw new CheckpointException(
            $"Task '{task.Id}': the checkpoint was trained with --sharing {manifest.Sharing} and has no encoder branch named after the task " +
            $"(branches: {string.Join(", ", branches.Keys)}). Its manifest does not record which task group a task was in, so named groups " +
            "(--task-groups \"name: a, b\") cannot be matched; train with unnamed groups (\"a, b\") or without groups to predict from it.");
    }

    private static IReadOnlyList<PluginCandidate> Discover(string pluginsDirectory)
    {
        try
        {
            return PluginDiscovery.Discover(pluginsDirectory);
        }
        catch (PluginFolderException e)
        {
            throw new CheckpointException(e.Message, e);
        }
    }

    private static LoadedPlugin LoadPlugin(CheckpointManifest.TaskEntry entry, IReadOnlyList<PluginCandidate> candidates, string pluginsDirectory,
        TaskPluginLoader loader, PluginShadowCopier shadow)
    {
        var named = candidates.FirstOrDefault(c => c.Name == entry.Plugin && File.Exists(c.AssemblyPath)
                                                   && Path.GetFileName(c.AssemblyPath) == entry.PluginAssembly);
        // A plugin folder may have been renamed: any DLL of the same file name and hash is the same plugin.
        var candidate = named ?? candidates.FirstOrDefault(c => Path.GetFileName(c.AssemblyPath) == entry.PluginAssembly && File.Exists(c.AssemblyPath)
                                                                && Sha256Of(c.AssemblyPath) == entry.PluginSha256);
        if (candidate is null)
        {
            throw new CheckpointException(
                $"Task '{entry.Id}' needs plugin '{entry.Plugin}' ({entry.PluginAssembly}, SHA-256 {entry.PluginSha256}), which is not in the plugins folder " +
                $"'{Path.GetFullPath(pluginsDirectory)}'. Pass --plugins with the folder the checkpoint was trained with, or rebuild the plugin from the same source at the same commit.");
        }
        var sha = Sha256Of(candidate.AssemblyPath);
        if (sha != entry.PluginSha256)
        {
            throw new CheckpointException(
                $"Task '{entry.Id}': plugin file '{candidate.AssemblyPath}' has SHA-256 {sha}, but the checkpoint was trained with SHA-256 {entry.PluginSha256}. " +
                "The plugin changed since the checkpoint was written, so its head may not fit. Use the checkpoint's plugins (the DLL it was trained with, " +
                "--plugins DIR), rebuild the plugin from the same source at the same commit (builds embed the commit id, so a new commit changes the hash), " +
                "or train a new checkpoint.");
        }
        // A copy: training in the same process may overwrite the plugin folder while the predictor still serves.
        var copy = shadow.Copy(candidate);
        if (Sha256Of(copy.AssemblyPath) != entry.PluginSha256)
        {
            throw new CheckpointException($"Task '{entry.Id}': plugin file '{candidate.AssemblyPath}' changed while it was being loaded; try again.");
        }
        var (plugin, refused) = loader.Load(copy);
        return plugin ?? throw new CheckpointException($"Task '{entry.Id}': plugin '{entry.Plugin}' was refused: {refused!.Reason}");
    }

    private static LoadedHead LoadHead(string directory, CheckpointManifest.TaskEntry entry, LoadedPlugin plugin, HeadOptions headOptions)
    {
        var task = plugin.Tasks.FirstOrDefault(t => t.Descriptor.Id == entry.Id)
                   ?? throw new CheckpointException($"Plugin '{plugin.Name}' no longer offers task '{entry.Id}'; use the checkpoint's plugins.");
        // A host-owned copy of the descriptor, so nothing of the plugin is kept through its label list.
        var descriptor = task.Descriptor with { Labels = task.Descriptor.Labels?.ToArray() ?? [] };
        if (descriptor.Kind.ToString() != entry.Kind || !descriptor.Labels.SequenceEqual(entry.Labels))
        {
            throw new CheckpointException($"Task '{entry.Id}': the plugin describes it as {descriptor.Kind} [{string.Join(", ", descriptor.Labels)}], " +
                                          $"the checkpoint as {entry.Kind} [{string.Join(", ", entry.Labels)}]; use the checkpoint's plugins.");
        }
        var path = CheckpointReader.RequireFile(directory, entry.HeadFile, $"head weights of task '{entry.Id}'");
        TaskHead head;
        try
        {
            lock (TorchGenerator.Lock)
            {
                head = task.CreateHead(headOptions);
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Plugin code: its failure makes this task unavailable, not the whole checkpoint unloadable.
            throw new CheckpointException($"Task '{entry.Id}': the plugin's CreateHead threw {e.GetType().Name}: {e.Message}", e);
        }
        try
        {
            head.load(path);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException or EndOfStreamException)
        {
            head.Dispose();
            throw new CheckpointException($"Head weights of task '{entry.Id}' ('{path}') do not fit the plugin's head ({e.Message}); use the checkpoint's plugins.", e);
        }
        head.eval();
        var kind = Enum.Parse<TaskKind>(entry.Kind);
        return new LoadedHead(new PredictorTask(entry.Id, kind, entry.Labels.ToArray(), entry.State), descriptor, head);
    }

    private static string Sha256Of(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    internal sealed record LoadedHead(PredictorTask Task, TaskDescriptor Descriptor, TaskHead Head)
    {
        /// <summary>The task's encoder branch; <see langword="null"/> with hard sharing.</summary>
        public EncoderBranch? Branch { get; init; }
    }
}
