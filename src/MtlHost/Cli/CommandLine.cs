using System.Globalization;
using MtlHost.Core.Devices;
using MtlHost.Core.Encoders;
using MtlHost.Core.Sampling;
using MtlHost.Core.Sharing;
using MtlHost.Core.Training;
using MtlHost.Core.Weighting;

namespace MtlHost.Cli;

/// <summary>
/// The command line of docs/command-line.md (its place in the host: docs/design.md): verbs, their options, and strict parsing. An unknown verb or
/// option, a missing value or a value of the wrong type is a <see cref="UsageException"/> (exit 2).
/// </summary>
public static class CommandLine
{
    private static readonly OptionSpec Config = new("config", null, OptionKind.Text, "JSON settings file layered over appsettings.json") { Placeholder = "FILE" };
    private static readonly OptionSpec Plugins = new("plugins", "Plugins:Directory", OptionKind.Text, "plugins folder (default: artifacts/plugins of the build)") { Placeholder = "DIR" };
    private static readonly OptionSpec Json = new("json", null, OptionKind.Flag, "print one JSON object with the results on standard output");
    private static readonly OptionSpec Threads = new("threads", Hosting.TorchThreads.ConfigurationKey, OptionKind.Count,
        "CPU threads torch computes with (default: OMP_NUM_THREADS, else one per physical core); on a shared machine, the cores this run may have");
    private static readonly OptionSpec Checkpoint = new("checkpoint", null, OptionKind.Text, "checkpoint folder of a training run (<run>/checkpoint or <run>/best)") { Placeholder = "DIR" };

    /// <summary>Options of <c>train</c> (and of <c>serve</c>).</summary>
    public static IReadOnlyList<OptionSpec> TrainOptions { get; } =
    [
        Config, Plugins,
        new("encoder", "Encoder:Name", OptionKind.Choice, "shared encoder", EncoderCatalog.Names),
        new("device", "Encoder:Device", OptionKind.Choice, "cpu, or cuda when a GPU and a CUDA build are present", DeviceSelector.Names),
        Threads,
        new("steps", "Training:Steps", OptionKind.Count, "optimizer steps"),
        new("batch-size", "Training:BatchSize", OptionKind.Count, "examples per mini-batch"),
        new("max-length", "Training:MaxLength", OptionKind.Count, "longest token sequence (truncation)"),
        new("length-window", "Training:LengthWindow", OptionKind.Count, "group each task's batches by length within windows of N batches of its shuffled order (default 0: off)"),
        new("lr", "Training:EncoderLearningRate", OptionKind.Number, "peak learning rate of the encoder (default 5e-5 for minilm, 5e-4 for random encoders)"),
        new("head-lr", "Training:HeadLearningRate", OptionKind.Number, "peak learning rate of the task heads (default 1e-3)"),
        new("warmup", "Training:WarmupFraction", OptionKind.Number, "fraction of steps of linear warm-up (default 0.1)"),
        new("clip-norm", "Training:GradientClipNorm", OptionKind.Number, "largest gradient norm (default 1.0; 0 does not clip)"),
        new("clipping", "Training:GradientClipping", OptionKind.Choice, "what --clip-norm bounds: each task's gradient before they add up, or the combined gradient of a step (default per-task)", GradientClipping.Names),
        new("attention-dropout", "Training:AttentionDropout", OptionKind.Number, "dropout on attention probabilities (default 0: libtorch's fused attention; BERT's 0.1 measured no better on the sample tasks)"),
        new("dropout", "Training:HiddenDropout", OptionKind.Number, "dropout on embeddings, hidden states and before each head's output (default 0.1 as in BERT)"),
        new("freeze-layers", "Training:FreezeLayers", OptionKind.Count, "freeze the embeddings and the bottom N encoder layers"),
        new("freeze-encoder", "Training:FreezeEncoder", OptionKind.Flag, "freeze the whole encoder; only the heads learn"),
        new("eval-every", "Training:EvalEvery", OptionKind.Count, "evaluate every N steps (default: at the end only)"),
        new("out", "Run:Out", OptionKind.Text, "run folder for the checkpoint and summary (default runs/<time>); a run folder with checkpoints resumes") { Placeholder = "DIR" },
        new("checkpoint-every", "Training:CheckpointEvery", OptionKind.Count, "write a resumable checkpoint every N steps to <out>/checkpoints (default 0: at the end only)"),
        new("keep-checkpoints", "Training:KeepCheckpoints", OptionKind.Count, "how many of the newest checkpoints to keep (default 3)") { Placeholder = "K" },
        new("seed", "Training:Seed", OptionKind.Integer, "seed for initialisation, data order and sampling"),
        new("sampler", "Training:Sampler", OptionKind.Choice, "which task(s) a step trains (default proportional; all-tasks for gradient-based weightings)", SamplerCatalog.Names),
        new("temperature", "Sampling:Temperature", OptionKind.Number, "T of the temperature sampler, p ∝ n^(1/T) (default 2)") { Placeholder = "T" },
        new("weighting", "Training:Weighting", OptionKind.Choice, "how task losses or gradients combine (default ew)", WeightingCatalog.Names),
        new("sharing", "Training:Sharing", OptionKind.Choice, "how much of the encoder tasks share (default hard)", SharingCatalog.Names),
        new("shared-layers", "Sharing:SharedLayers", OptionKind.Count, "bottom encoder layers shared by every task with --sharing top-layers"),
        new("adapter-size", "Sharing:AdapterSize", OptionKind.Count, "bottleneck width of the adapters with --sharing adapters"),
        new("task-groups", "Sharing:TaskGroups", OptionKind.Text, "related tasks that share a branch with top-layers or adapters: \"name: task, task; name: task, task\"") { Placeholder = "GROUPS" },
        new("patience", "Training:Patience", OptionKind.Count, "stop after N evaluations without a better selection score (needs --eval-every)"),
        new("baselines", "Run:Baselines", OptionKind.Text, "baselines.json of a --single-task run: select the best evaluation by Δm% against it") { Placeholder = "FILE" },
        new("watch", null, OptionKind.Flag, "watch the plugins folder: add, replace and remove task plugins between steps (hot reload)"),
        new("single-task", null, OptionKind.Flag, "train each task alone with the same settings: the baselines for Δm% (writes baselines.json)"),
        Json,
    ];

    /// <summary>
    /// Options of <c>serve</c>: those of <c>train</c> (watching is implied; <c>--single-task</c> does not serve), <c>--urls</c>,
    /// and <c>--onnx</c>, which serves an export's predictions instead of training (with <c>--urls</c>, <c>--threads</c> and <c>--config</c> only).
    /// </summary>
    public static IReadOnlyList<OptionSpec> ServeOptions { get; } =
    [
        .. TrainOptions.Where(o => o.Name != "single-task"),
        new("urls", "Serve:Urls", OptionKind.Text, $"where the dashboard and API listen, ';'-separated (default {DefaultUrls}; 127.0.0.1 keeps them off the network)") { Placeholder = "URL" },
        new("onnx", null, OptionKind.Text, "serve only predictions (POST /api/predict, GET /api/status) of an 'export --format onnx' folder with ONNX Runtime: " +
                                           "no training, plugins or libtorch; takes only --urls, --threads (ONNX Runtime's threads) and --config") { Placeholder = "DIR" },
    ];

    /// <summary>Where <c>serve</c> listens unless told otherwise: this machine only.</summary>
    public const string DefaultUrls = "http://127.0.0.1:5080";

    /// <summary>Options of <c>plugins list</c> and <c>plugins check</c>.</summary>
    public static IReadOnlyList<OptionSpec> PluginOptions { get; } =
    [
        Config, Plugins,
        new("encoder", "Encoder:Name", OptionKind.Choice, "encoder whose width heads are checked against", EncoderCatalog.Names),
        new("run", null, OptionKind.Text, "list only: what the watched run with this run folder (train --watch --out DIR) has loaded now") { Placeholder = "DIR" },
        Json,
    ];

    /// <summary>Options of <c>compare</c>; its run folders are positional arguments.</summary>
    public static IReadOnlyList<OptionSpec> CompareOptions { get; } =
    [
        new("baselines", null, OptionKind.Text, "baselines.json, or the --out folder of 'train --single-task'") { Placeholder = "FILE_OR_RUN_DIR" },
        new("all-metrics", null, OptionKind.Flag, "count every score with a known direction in Δm%, not only the primary one"),
        Json,
    ];

    /// <summary>Options of <c>predict</c>.</summary>
    public static IReadOnlyList<OptionSpec> PredictOptions { get; } =
    [
        Config, Plugins, Checkpoint,
        new("onnx", null, OptionKind.Text, "predict with ONNX Runtime from an 'export --format onnx' folder instead of a checkpoint (no plugins needed)") { Placeholder = "DIR" },
        Threads,
        new("task", null, OptionKind.Text, "predict this task only (by id); default: every task that was training") { Placeholder = "NAME" },
        new("text", null, OptionKind.Text, "the text to predict on"),
        new("pair", null, OptionKind.Text, "second text, for pair-classification tasks"),
        Json,
    ];

    /// <summary>The splits <c>eval</c> evaluates on; the training split is what the model learnt from, so it is not one of them.</summary>
    public static IReadOnlyList<string> EvalSplits { get; } = ["validation", "test"];

    /// <summary>Options of <c>eval</c>.</summary>
    public static IReadOnlyList<OptionSpec> EvalOptions { get; } =
    [
        Config, Plugins, Checkpoint, Threads,
        new("split", null, OptionKind.Choice, "the split to evaluate on (default validation)", EvalSplits),
        Json,
    ];

    /// <summary>The formats <c>export</c> writes.</summary>
    public static IReadOnlyList<string> ExportFormats { get; } = ["safetensors", "onnx"];

    /// <summary>Options of <c>export</c>.</summary>
    public static IReadOnlyList<OptionSpec> ExportOptions { get; } =
    [
        Checkpoint,
        new("out", null, OptionKind.Text, "folder for the exported files") { Placeholder = "DIR" },
        new("format", null, OptionKind.Choice, "safetensors + mtlhost-export.json for Python (default), or onnx: one ONNX model of the encoder and every head, for ONNX Runtime",
            ExportFormats),
        new("quantize", null, OptionKind.Choice, "with --format onnx: int8 makes the encoder's matrix multiplications dynamically quantized int8 (default none: fp32)",
            Core.Export.Onnx.OnnxCheckpointExporter.Quantizations),
        new("plugins", null, OptionKind.Text, "with --quantize int8: the checkpoint's plugins folder; the first training texts of each task calibrate " +
            "SmoothQuant, which moves activation outliers into the weights, and GPTQ, which rounds the int8 weights so their errors cancel on those texts " +
            "(without it: unsmoothed, rounded to nearest)") { Placeholder = "DIR" },
        // The threads of an int8 export's calibration (ONNX Runtime and GPTQ's torch); otherwise accepted and checked only.
        Threads,
        Json,
    ];

    /// <summary>Every command, in the order usage lists them: the one definition the parser, usage and docs/command-line.md's block come from.</summary>
    public static IReadOnlyList<CommandSpec> Commands { get; } =
    [
        new("train", "trains the plugins folder's tasks jointly on one shared encoder; with --watch, hot-reloads plugins between steps", TrainOptions),
        new("serve", $"trains until stopped (or --steps N) with hot reload; dashboard and API on {DefaultUrls}; " +
                     "with --onnx DIR, only predictions of an ONNX export, without libtorch", ServeOptions)
        {
            SharedOptionsNote = "every train option but --single-task",
            NotListed = [.. ServeOptions.Where(o => o.Name is not ("urls" or "onnx"))],
        },
        new("plugins list|check", "lists or checks the plugins of a folder, or (list --run DIR) those of a running 'train --watch --out DIR'", PluginOptions),
        new("compare", "Δm% of run folders against single-task baselines", CompareOptions)
        {
            Required = ["baselines"],
            Arguments = "RUN_DIR [RUN_DIR...]",
        },
        new("eval", "every task of a checkpoint scored on a split, beside the trivial baseline", EvalOptions) { Required = ["checkpoint"] },
        new("predict", "every task's (or one task's) prediction for a text", PredictOptions) { Required = ["text"] },
        new("export", "safetensors + mtlhost-export.json for Python, or an ONNX model for ONNX Runtime", ExportOptions) { Required = ["checkpoint", "out"] },
    ];

    /// <summary>The usage lines of every command, as <c>mtlhost --help</c> prints them and docs/command-line.md's command-line block shows them.</summary>
    public static string Synopsis { get; } = UsageText.Synopsis(Commands);

    /// <summary>The usage text.</summary>
    public static string Usage { get; } = $"""
        multi-task learning host — task plugins from a folder, one shared transformer encoder.

        usage:
        {Synopsis}

        'mtlhost COMMAND --help' lists a command's options, each with what it does and its setting.
        exit codes: 0 success, 1 the run failed, 2 bad usage or bad input.
        Options may also come from appsettings.json, --config FILE or MTLHOST_* environment variables
        (for example MTLHOST_Training__Steps=100).
        """;

    /// <summary>Parses <paramref name="args"/>.</summary>
    /// <param name="args">The process arguments.</param>
    /// <returns>The command.</returns>
    /// <exception cref="UsageException">The command line is not valid.</exception>
    /// <exception cref="HelpRequestedException">The command line asks for help.</exception>
    public static ParsedCommand Parse(IReadOnlyList<string> args)
    {
        if (args.Count == 0)
        {
            throw new UsageException(Usage);
        }
        if (args[0] is "-h" or "--help" or "help")
        {
            throw new HelpRequestedException(Usage);
        }

        var verb = args[0];
        var command = Commands.FirstOrDefault(c => c.Verb.Split(' ')[0] == verb)
            ?? throw new UsageException($"unknown command '{verb}'; the commands are {string.Join(", ", Commands.Select(c => c.Verb))}.\n\n{Usage}");
        string? subVerb = null;
        var position = 1;
        if (command.Verb.Split(' ') is [_, var subVerbs])
        {
            var allowed = subVerbs.Split('|');
            if (args.Count > 1 && args[1] is "-h" or "--help")
            {
                throw new HelpRequestedException(UsageText.Help(command));
            }
            if (args.Count < 2 || !allowed.Contains(args[1]))
            {
                throw new UsageException($"mtlhost {verb}: say {string.Join(" or ", allowed.Select(a => $"'{a}'"))} (mtlhost {verb} {allowed[0]} [--plugins DIR]).");
            }
            subVerb = args[1];
            position = 2;
        }
        if (args.Count > position && args[position] is "-h" or "--help")
        {
            throw new HelpRequestedException(UsageText.Help(command));
        }
        var specs = command.Options;

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
