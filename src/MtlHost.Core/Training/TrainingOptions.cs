namespace MtlHost.Core.Training;

/// <summary>
/// How a joint training run goes. Defaults follow BERT fine-tuning practice (AdamW, linear warm-up
/// then linear decay, gradient clipping at 1.0 — of each task's gradient —, weight decay 0.01 except on biases and LayerNorms).
/// </summary>
public sealed record TrainingOptions
{
    /// <summary>Optimizer steps; each step trains one sampled task on one mini-batch.</summary>
    public int Steps { get; init; } = 600;

    /// <summary>Examples per mini-batch.</summary>
    public int BatchSize { get; init; } = 16;

    /// <summary>
    /// Length-aware batching (<c>--length-window N</c>): each task's shuffled order is cut into windows of N batches,
    /// each window sorted by length into batches of similar length (in a seeded random order), so that dynamic
    /// padding pads far less. 0 (the default) keeps the plain shuffle: whether grouping changes the scores is still
    /// to be measured.
    /// </summary>
    public int LengthWindow { get; init; }

    /// <summary>Longest token sequence, including [CLS] and [SEP]; longer inputs are truncated.</summary>
    public int MaxLength { get; init; } = 128;

    /// <summary>Peak learning rate of the shared encoder; <see langword="null"/> takes the encoder's default.</summary>
    public double? EncoderLearningRate { get; init; }

    /// <summary>Peak learning rate of the task heads (freshly initialised, so higher than the encoder's).</summary>
    public double HeadLearningRate { get; init; } = 1e-3;

    /// <summary>Decoupled weight decay (AdamW), not applied to biases and LayerNorm weights.</summary>
    public double WeightDecay { get; init; } = 0.01;

    /// <summary>
    /// Train until stopped instead of for <see cref="Steps"/> steps (<c>mtlhost serve</c> without <c>--steps</c>).
    /// <see cref="Steps"/> then only sets the warm-up length, and the learning rate stays at its peak after it:
    /// a schedule that decays towards a last step would stop a run without one from learning.
    /// </summary>
    public bool Continuous { get; init; }

    /// <summary>The steps the run is to take: <see cref="Steps"/>, or <see langword="null"/> when it trains until stopped.</summary>
    public int? StepBudget => Continuous ? null : Steps;

    /// <summary>Whether a run that has taken <paramref name="step"/> steps has steps left in its budget (always, when continuous).</summary>
    /// <param name="step">Steps taken.</param>
    /// <returns><see langword="true"/> while the run should go on.</returns>
    public bool HasStepsLeft(int step) => step < (StepBudget ?? int.MaxValue);

    /// <summary>The step budget as logs show it: the number, or ∞ when the run trains until stopped.</summary>
    public string StepBudgetText => StepBudget?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "∞";

    /// <summary>Fraction of <see cref="Steps"/> over which the learning rate rises linearly from 0.</summary>
    public double WarmupFraction { get; init; } = 0.1;

    /// <summary>Largest gradient norm (see <see cref="GradientClipping"/> for of what); 0 disables clipping.</summary>
    public double GradientClipNorm { get; init; } = 1.0;

    /// <summary>
    /// What <see cref="GradientClipNorm"/> bounds (<see cref="Training.GradientClipping"/>): by default each task's gradient
    /// before the tasks' gradients are added up, since one clip over the sum shrinks every task's share as more tasks train
    /// in a step (six sample tasks, MiniLM, all tasks every step: Δm% −8.7 per task against −19.6 with one global clip).
    /// With one task per step the two are the same.
    /// </summary>
    public string GradientClipping { get; init; } = Training.GradientClipping.PerTask;

    /// <summary>
    /// Dropout on attention probabilities while training; <see langword="null"/> keeps the encoder's (BERT's 0.1).
    /// 0 by default: it lets libtorch use its fused attention kernel on the CPU (about a fifth of a MiniLM step), and
    /// BERT's 0.1 was worth nothing measurable on the sample tasks (docs/results.md, three seeds).
    /// </summary>
    public double? AttentionDropout { get; init; } = 0;

    /// <summary>
    /// Dropout on the encoder's embeddings and hidden states and before each head's output layer while training;
    /// <see langword="null"/> keeps the encoder's (0.1 as in BERT). 0 with <see cref="AttentionDropout"/> 0 makes a step a
    /// function of its batch alone, which the check that several processes train as one does (and a user may want).
    /// </summary>
    public double? HiddenDropout { get; init; }

    /// <summary>Freeze the embeddings and the bottom this many encoder layers (0 trains them all).</summary>
    public int FreezeLayers { get; init; }

    /// <summary>Freeze the whole encoder: only the task heads learn (a linear probe of the encoder's features).</summary>
    public bool FreezeEncoder { get; init; }

    /// <summary>Evaluate on the validation split every this many steps; 0 only evaluates at the end.</summary>
    public int EvalEvery { get; init; }

    /// <summary>Examples per evaluation batch.</summary>
    public int EvalBatchSize { get; init; } = 64;

    /// <summary>Seed for initialisation, data order and task sampling.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Log a progress line every this many steps; 0 never.</summary>
    public int LogEvery { get; init; } = 50;

    /// <summary>
    /// Task sampler name (<c>--sampler</c>); <see langword="null"/> picks <c>all-tasks</c> for weightings that
    /// compare tasks within a step and <c>proportional</c> otherwise.
    /// </summary>
    public string? Sampler { get; init; }

    /// <summary>Loss weighting name (<c>--weighting</c>).</summary>
    public string Weighting { get; init; } = "ew";

    /// <summary>Encoder sharing strategy name (<c>--sharing</c>).</summary>
    public string Sharing { get; init; } = "hard";

    /// <summary>
    /// Evaluations without a better selection score after which training stops early; 0 never stops
    /// early. Needs <see cref="EvalEvery"/>.
    /// </summary>
    public int Patience { get; init; }

    /// <summary>
    /// Write a resumable checkpoint to <c>&lt;out&gt;/checkpoints</c> every this many steps; 0 writes one only when
    /// the run ends (or on demand). A restart with the same run folder resumes from the latest.
    /// </summary>
    public int CheckpointEvery { get; init; }

    /// <summary>How many of the newest periodic checkpoints to keep (the best and the final model are kept apart).</summary>
    public int KeepCheckpoints { get; init; } = 3;

    /// <summary>Consecutive non-finite losses after which a task is taken out of the run.</summary>
    public int MaxNonFiniteLosses { get; init; } = 3;

    /// <summary>
    /// The learning rate at <paramref name="step"/> as a fraction of the peak: linear warm-up over
    /// <see cref="WarmupFraction"/> of <see cref="Steps"/>, then linear decay to 0 at the last step, or,
    /// in a <see cref="Continuous"/> run, the peak from then on.
    /// </summary>
    /// <param name="step">Steps taken so far.</param>
    /// <returns>A factor in [0, 1].</returns>
    public double LearningRateFactor(int step)
    {
        var total = Math.Max(1, Steps);
        var warmup = (int)Math.Round(WarmupFraction * total);
        if (step < warmup)
        {
            return (step + 1.0) / (warmup + 1.0);
        }
        if (Continuous)
        {
            return 1.0;
        }
        return Math.Max(0.0, (total - step) / (double)Math.Max(1, total - warmup));
    }

    /// <summary>Checks the values; returns the first problem as a message naming the option, or <see langword="null"/>.</summary>
    /// <returns>The problem, or <see langword="null"/>.</returns>
    public string? Validate()
    {
        if (Steps < 0) return "--steps must be 0 or more.";
        if (BatchSize < 1) return "--batch-size must be at least 1.";
        if (LengthWindow < 0) return "--length-window must be 0 (off) or more.";
        if (MaxLength < 8 || MaxLength > 512) return "--max-length must be between 8 and 512 (the encoder has 512 positions).";
        if (EncoderLearningRate is < 0) return "--lr must not be negative.";
        if (HeadLearningRate < 0) return "--head-lr must not be negative.";
        if (WeightDecay < 0) return "--weight-decay must not be negative.";
        if (WarmupFraction is < 0 or > 1) return "--warmup must be between 0 and 1.";
        if (GradientClipNorm < 0) return "--clip-norm must not be negative.";
        if (!Training.GradientClipping.Names.Contains(GradientClipping, StringComparer.OrdinalIgnoreCase))
            return $"--clipping '{GradientClipping}' is not known; use one of {string.Join(", ", Training.GradientClipping.Names)}.";
        if (AttentionDropout is < 0 or >= 1) return "--attention-dropout must be at least 0 and below 1.";
        if (HiddenDropout is < 0 or >= 1) return "--dropout must be at least 0 and below 1.";
        if (FreezeLayers < 0) return "--freeze-layers must be 0 or more.";
        if (EvalEvery < 0) return "--eval-every must be 0 or more.";
        if (EvalBatchSize < 1) return "--eval-batch-size must be at least 1.";
        if (Patience < 0) return "--patience must be 0 or more.";
        if (CheckpointEvery < 0) return "--checkpoint-every must be 0 or more (0 writes a checkpoint only at the end of the run).";
        if (KeepCheckpoints < 1) return "--keep-checkpoints must be at least 1: resuming needs the latest checkpoint.";
        if (Patience > 0 && EvalEvery == 0) return "--patience counts evaluations: give --eval-every N too.";
        return null;
    }
}
