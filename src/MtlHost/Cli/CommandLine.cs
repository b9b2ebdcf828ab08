using System.Globalization;
using MtlHost.Core.Devices;
using MtlHost.Core.Encoders;
using MtlHost.Core.Sampling;
using MtlHost.Core.Sharing;
using MtlHost.Core.Training;
using MtlHost.Core.Weighting;

namespace MtlHost.Cli;

/// <summary>
/// The command line of DESIGN.md: verbs, their options, and strict parsing. An unknown verb or
/// option, a missing value or a value of the wrong type is a <see cref="UsageException"/> (exit 2).
/// </summary>
public static class CommandLine
{
    private static readonly OptionSpec Config = new("config", null, OptionKind.Text, "JSON settings file layered over appsettings.json");
    private static readonly OptionSpec Plugins = new("plugins", "Plugins:Directory", OptionKind.Text, "plugins folder (default: artifacts/plugins of the build)");
    private static readonly OptionSpec Json = new("json", null, OptionKind.Flag, "print one JSON object with the results on standard output");

    /// <summary>Options of <c>train</c> (and of <c>serve</c>).</summary>
    public static IReadOnlyList<OptionSpec> TrainOptions { get; } =
    [
        Config, Plugins,
        new("encoder", "Encoder:Name", OptionKind.Choice, "shared encoder", EncoderCatalog.Names),
        new("device", "Encoder:Device", OptionKind.Choice, "cpu, or cuda when a GPU and a CUDA build are present", DeviceSelector.Names),
        new("steps", "Training:Steps", OptionKind.Count, "optimizer steps"),
        new("batch-size", "Training:BatchSize", OptionKind.Count, "examples per mini-batch"),
        new("max-length", "Training:MaxLength", OptionKind.Count, "longest token sequence (truncation)"),
        new("length-window", "Training:LengthWindow", OptionKind.Count, "group each task's batches by length within windows of N batches of its shuffled order (default 0: off)"),
        new("lr", "Training:EncoderLearningRate", OptionKind.Number, "peak learning rate of the encoder (default 5e-5 for minilm, 5e-4 for random encoders)"),
        new("head-lr", "Training:HeadLearningRate", OptionKind.Number, "peak learning rate of the task heads (default 1e-3)"),
        new("warmup", "Training:WarmupFraction", OptionKind.Number, "fraction of steps of linear warm-up (default 0.1)"),
        new("clip-norm", "Training:GradientClipNorm", OptionKind.Number, "largest gradient norm (default 1.0; 0 does not clip)"),
        new("clipping", "Training:GradientClipping", OptionKind.Choice, "what --clip-norm bounds: each task's gradient before they add up, or the combined gradient of a step (default per-task)", GradientClipping.Names),
        new("attention-dropout", "Training:AttentionDropout", OptionKind.Number, "dropout on attention probabilities (default 0.1 as in BERT; 0 is faster on the CPU)"),
        new("freeze-layers", "Training:FreezeLayers", OptionKind.Count, "freeze the embeddings and the bottom N encoder layers"),
        new("freeze-encoder", "Training:FreezeEncoder", OptionKind.Flag, "freeze the whole encoder; only the heads learn"),
        new("eval-every", "Training:EvalEvery", OptionKind.Count, "evaluate every N steps (default: at the end only)"),
        new("out", "Run:Out", OptionKind.Text, "run folder for the checkpoint and summary (default runs/<time>); a run folder with checkpoints resumes"),
        new("checkpoint-every", "Training:CheckpointEvery", OptionKind.Count, "write a resumable checkpoint every N steps to <out>/checkpoints (default 0: at the end only)"),
        new("keep-checkpoints", "Training:KeepCheckpoints", OptionKind.Count, "how many of the newest checkpoints to keep (default 3)"),
        new("seed", "Training:Seed", OptionKind.Integer, "seed for initialisation, data order and sampling"),
        new("sampler", "Training:Sampler", OptionKind.Choice, "which task(s) a step trains (default proportional; all-tasks for gradient-based weightings)", SamplerCatalog.Names),
        new("temperature", "Sampling:Temperature", OptionKind.Number, "T of the temperature sampler, p ∝ n^(1/T) (default 2)"),
        new("weighting", "Training:Weighting", OptionKind.Choice, "how task losses or gradients combine (default ew)", WeightingCatalog.Names),
        new("sharing", "Training:Sharing", OptionKind.Choice, "how much of the encoder tasks share (default hard)", SharingCatalog.Names),
        new("shared-layers", "Sharing:SharedLayers", OptionKind.Count, "bottom encoder layers shared by every task with --sharing top-layers"),
        new("adapter-size", "Sharing:AdapterSize", OptionKind.Count, "bottleneck width of the adapters with --sharing adapters"),
        new("task-groups", "Sharing:TaskGroups", OptionKind.Text, "related tasks that share a branch with top-layers or adapters: \"name: task, task; name: task, task\""),
        new("patience", "Training:Patience", OptionKind.Count, "stop after N evaluations without a better selection score (needs --eval-every)"),
        new("baselines", "Run:Baselines", OptionKind.Text, "baselines.json of a --single-task run: select the best evaluation by Δm% against it"),
        new("watch", null, OptionKind.Flag, "watch the plugins folder: add, replace and remove task plugins between steps (hot reload)"),
        new("single-task", null, OptionKind.Flag, "train each task alone with the same settings: the baselines for Δm% (writes baselines.json)"),
        Json,
    ];

    /// <summary>
    /// Options of <c>serve</c>: those of <c>train</c> (watching is implied; <c>--single-task</c> does not serve) and <c>--urls</c>.
    /// </summary>
    public static IReadOnlyList<OptionSpec> ServeOptions { get; } =
    [
        .. TrainOptions.Where(o => o.Name != "single-task"),
        new("urls", "Serve:Urls", OptionKind.Text, $"where the dashboard and API listen, ';'-separated (default {DefaultUrls}; 127.0.0.1 keeps them off the network)"),
    ];

    /// <summary>Where <c>serve</c> listens unless told otherwise: this machine only.</summary>
    public const string DefaultUrls = "http://127.0.0.1:5080";

    /// <summary>Options of <c>plugins list</c> and <c>plugins check</c>.</summary>
    public static IReadOnlyList<OptionSpec> PluginOptions { get; } =
    [
        Config, Plugins,
        new("encoder", "Encoder:Name", OptionKind.Choice, "encoder whose width heads are checked against", EncoderCatalog.Names),
        new("run", null, OptionKind.Text, "list only: what the watched run with this run folder (train --watch --out DIR) has loaded now"),
        Json,
    ];

    /// <summary>Options of <c>compare</c>; its run folders are positional arguments.</summary>
    public static IReadOnlyList<OptionSpec> CompareOptions { get; } =
    [
        new("baselines", null, OptionKind.Text, "baselines.json, or the --out folder of 'train --single-task'"),
        new("all-metrics", null, OptionKind.Flag, "count every score with a known direction in Δm%, not only the primary one"),
        Json,
    ];

    /// <summary>Options of <c>predict</c>.</summary>
    public static IReadOnlyList<OptionSpec> PredictOptions { get; } =
    [
        Config, Plugins,
        new("checkpoint", null, OptionKind.Text, "checkpoint folder of a training run (<run>/checkpoint or <run>/best)"),
        new("task", null, OptionKind.Text, "predict this task only (by id); default: every task that was training"),
        new("text", null, OptionKind.Text, "the text to predict on"),
        new("pair", null, OptionKind.Text, "second text, for pair-classification tasks"),
        Json,
    ];

    /// <summary>Options of <c>export</c>.</summary>
    public static IReadOnlyList<OptionSpec> ExportOptions { get; } =
    [
        new("checkpoint", null, OptionKind.Text, "checkpoint folder of a training run (<run>/checkpoint or <run>/best)"),
        new("out", null, OptionKind.Text, "folder for the safetensors files and mtlhost-export.json"),
        Json,
    ];

    /// <summary>The usage text.</summary>
    public static string Usage { get; } = """
        mtlhost: multi-task learning host — task plugins from a folder, one shared transformer encoder.

        usage:
          mtlhost train   [--config FILE] [--plugins DIR] [--encoder minilm|minilm-random|tiny] [--steps N] [--batch-size N]
                          [--device cpu|cuda] [--out DIR] [--seed N] [--json] [--watch]
                          [--max-length N] [--length-window N] [--lr X] [--head-lr X] [--warmup X] [--eval-every N]
                          [--attention-dropout X] [--freeze-layers N] [--freeze-encoder]
                          [--clip-norm X] [--clipping global|per-task|none]
                          [--sampler uniform|proportional|temperature|annealed|all-tasks] [--temperature T]
                          [--weighting ew|uw|dwa|rlw|famo|gradnorm|pcgrad|mgda|cagrad]
                          [--sharing hard|top-layers|adapters] [--shared-layers N] [--adapter-size N] [--task-groups GROUPS]
                          [--single-task] [--baselines FILE] [--patience N] [--checkpoint-every N] [--keep-checkpoints K]
          mtlhost serve   [every train option but --single-task] [--urls URL]
                          # trains until stopped (or --steps N), hot-reloads, dashboard and API on http://127.0.0.1:5080
          mtlhost plugins list|check [--plugins DIR] [--encoder minilm|minilm-random|tiny] [--json]
          mtlhost compare --baselines FILE_OR_RUN_DIR RUN_DIR [RUN_DIR...] [--all-metrics] [--json]
          mtlhost plugins list --run DIR [--json]        # the plugins of a running 'train --watch --out DIR'
          mtlhost predict --checkpoint DIR [--plugins DIR] [--task NAME] --text TEXT [--pair TEXT] [--json]
          mtlhost export  --checkpoint DIR --out DIR [--json]   # safetensors + mtlhost-export.json for Python

        exit codes: 0 success, 1 the run failed, 2 bad usage or bad input.
        Options may also come from appsettings.json, --config FILE or MTLHOST_* environment variables
        (for example MTLHOST_Training__Steps=100).
        """;

    /// <summary>Parses <paramref name="args"/>.</summary>
    /// <param name="args">The process arguments.</param>
    /// <returns>The command.</returns>
    /// <exception cref="UsageException">The command line is not valid.</exception>
    public static ParsedCommand Parse(IReadOnlyList<string> args)
    {
        if (args.Count == 0 || args[0] is "-h" or "--help" or "help")
        {
            throw new UsageException(Usage);
        }

        var verb = args[0];
        string? subVerb = null;
        var position = 1;
        IReadOnlyList<OptionSpec> specs;
        switch (verb)
        {
            case "train":
                specs = TrainOptions;
                break;
            case "plugins":
                if (args.Count < 2 || args[1] is not ("list" or "check"))
                {
                    throw new UsageException("mtlhost plugins: say 'list' or 'check' (mtlhost plugins list [--plugins DIR]).");
                }
                subVerb = args[1];
                position = 2;
                specs = PluginOptions;
                break;
            case "compare":
                specs = CompareOptions;
                break;
            case "serve":
                specs = ServeOptions;
                break;
            case "predict":
                specs = PredictOptions;
                break;
            case "export":
                specs = ExportOptions;
                break;
            case "eval":
                throw new UsageException($"mtlhost {verb}: this command is not available in this version yet; 'train', 'serve', 'plugins', 'compare', 'predict' and 'export' are.");
            default:
                throw new UsageException($"unknown command '{verb}'; the commands are train, serve, plugins list, plugins check, compare, predict, export.\n\n{Usage}");
        }

        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        var arguments = new List<string>();
        for (; position < args.Count; position++)
        {
            var token = args[position];
            if (!token.StartsWith("--", StringComparison.Ordinal) && verb == "compare")
            {
                // compare takes its run folders as positional arguments.
                arguments.Add(token);
                continue;
            }
            if (!token.StartsWith("--", StringComparison.Ordinal))
            {
                throw new UsageException($"mtlhost {verb}: unexpected argument '{token}'; options start with --.");
            }
            var name = token[2..];
            string? inlineValue = null;
            var equals = name.IndexOf('=');
            if (equals >= 0)
            {
                inlineValue = name[(equals + 1)..];
                name = name[..equals];
            }
            var spec = specs.FirstOrDefault(s => s.Name == name)
                ?? throw new UsageException($"mtlhost {verb}: unknown option --{name}; the options are {string.Join(", ", specs.Select(s => "--" + s.Name))}.");
            if (options.ContainsKey(name))
            {
                throw new UsageException($"mtlhost {verb}: --{name} is given twice.");
            }

            if (spec.Kind == OptionKind.Flag)
            {
                if (inlineValue is not null)
                {
                    throw new UsageException($"mtlhost {verb}: --{name} takes no value.");
                }
                options[name] = "true";
                continue;
            }

            var value = inlineValue;
            if (value is null)
            {
                if (position + 1 >= args.Count || args[position + 1].StartsWith("--", StringComparison.Ordinal))
                {
                    throw new UsageException($"mtlhost {verb}: --{name} needs a value ({spec.Help}).");
                }
                value = args[++position];
            }
            options[name] = Check(verb, spec, value);
        }
        return new ParsedCommand(verb, subVerb, options, specs) { Arguments = arguments };
    }

    private static string Check(string verb, OptionSpec spec, string value)
    {
        switch (spec.Kind)
        {
            case OptionKind.Count when !int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out _):
                throw new UsageException($"mtlhost {verb}: --{spec.Name} must be a whole number, not '{value}'.");
            case OptionKind.Integer when !int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _):
                throw new UsageException($"mtlhost {verb}: --{spec.Name} must be an integer, not '{value}'.");
            case OptionKind.Number when !double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) || !double.IsFinite(number):
                throw new UsageException($"mtlhost {verb}: --{spec.Name} must be a number, not '{value}'.");
            case OptionKind.Choice:
            {
                var match = spec.Allowed!.FirstOrDefault(a => string.Equals(a, value, StringComparison.OrdinalIgnoreCase));
                return match ?? throw new UsageException(
                    $"mtlhost {verb}: --{spec.Name} '{value}' is not known; use one of {string.Join(", ", spec.Allowed!)}.");
            }
            case OptionKind.Text when string.IsNullOrWhiteSpace(value):
                throw new UsageException($"mtlhost {verb}: --{spec.Name} must not be empty.");
            default:
                return value;
        }
    }
}
