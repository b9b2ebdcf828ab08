using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MtlHost.Abstractions;
using MtlHost.Core.Checkpoints;
using MtlHost.Core.Encoders;
using MtlHost.Core.Inference;
using MtlHost.Core.Kinds;
using MtlHost.Core.Sharing;
using MtlHost.Core.Tokenization;
using MtlHost.Plugins;
using MtlHost.Predictions;

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
public sealed class MultiTaskPredictor : IMultiTaskPredictor
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

    /// <inheritdoc />
    string IMultiTaskPredictor.ModelDirectory => CheckpointDirectory;

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
        var encoder = CheckpointModelLoader.LoadEncoder(directory, manifest);
        Dictionary<string, EncoderBranch> branches;
        try
        {
            branches = CheckpointModelLoader.LoadBranches(directory, manifest, encoder);
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
            var candidates = CheckpointPluginResolver.Discover(pluginsDirectory);
            var loader = new TaskPluginLoader(headOptions, logger);
            foreach (var group in manifest.Tasks.GroupBy(t => (t.Plugin, t.PluginAssembly, t.PluginSha256)))
            {
                var entries = group.OrderBy(t => t.Id, StringComparer.Ordinal).ToList();
                LoadedPlugin? plugin = null;
                var groupHeads = new List<LoadedHead>();
                try
                {
                    plugin = CheckpointPluginResolver.LoadPlugin(entries[0], candidates, pluginsDirectory, loader, shadow);
                    foreach (var entry in entries)
                    {
                        var branch = CheckpointModelLoader.BranchOf(entry, manifest, branches);
                        groupHeads.Add(CheckpointModelLoader.LoadHead(directory, entry, plugin, headOptions) with { Branch = branch });
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

    /// <inheritdoc />
    void IMultiTaskPredictor.Validate(IReadOnlyList<PredictionInput> inputs, string? taskId) => Check(inputs, taskId);

    /// <summary>Checks a request as <see cref="Predict"/> does, without predicting.</summary>
    /// <param name="inputs">The inputs.</param>
    /// <param name="taskId">The task asked for, or <see langword="null"/>.</param>
    /// <returns>The heads to run.</returns>
    /// <exception cref="ArgumentException">See <see cref="Predict"/>.</exception>
    private List<LoadedHead> Check(IReadOnlyList<PredictionInput> inputs, string? taskId)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var selected = Select(taskId);
        for (var i = 0; i < inputs.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(inputs[i]?.Text))
            {
                throw new ArgumentException(inputs.Count == 1 ? "The text is empty; give a text to predict on." : $"Input {i}: the text is empty; give a text to predict on.");
            }
            if (taskId is not null && ReadsPair(selected[0]) && string.IsNullOrWhiteSpace(inputs[i].Pair))
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

    private static bool ReadsPair(LoadedHead head) => TaskKindHandler.For(head.Task.Kind).Input == InputEncoding.Pair;

    private List<PredictionResponse> PredictLocked(IReadOnlyList<PredictionInput> inputs, List<LoadedHead> heads)
    {
        var batch = new PredictionBatch(inputs, heads, _tokenizer, MaxLength);
        var perInput = batch.Run(_encoder, heads);
        var notes = Enumerable.Range(0, inputs.Count).Select(_ => new List<string>()).ToArray();
        foreach (var head in heads.Where(ReadsPair))
        {
            for (var i = 0; i < inputs.Count; i++)
            {
                if (!batch.HasPair(i))
                {
                    notes[i].Add($"task '{head.Task.Id}' skipped: pair classification needs a second text (--pair TEXT, or \"pair\" in the request).");
                }
            }
        }
        return Enumerable.Range(0, inputs.Count).Select(i => new PredictionResponse(Step, perInput[i]) { Notes = notes[i] }).ToList();
    }
}
