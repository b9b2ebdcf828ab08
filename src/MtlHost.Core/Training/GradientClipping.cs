namespace MtlHost.Core.Training;

/// <summary>
/// What the gradient-norm bound of a step (<see cref="TrainingOptions.GradientClipNorm"/>) applies to, by the names
/// <c>--clipping</c> and <c>Training:GradientClipping</c> take.
/// </summary>
public static class GradientClipping
{
    /// <summary>The step's combined gradient over every parameter, as one optimizer would clip it (BERT's recipe).</summary>
    public const string Global = "global";

    /// <summary>
    /// Each task's gradient, before the tasks' gradients are added up: a task's share of the update then does not
    /// shrink as more tasks train in the same step. Applies to loss-based weightings; gradient-based ones combine
    /// the gradients themselves, and their combined gradient is clipped.
    /// </summary>
    public const string PerTask = "per-task";

    /// <summary>No clipping.</summary>
    public const string None = "none";

    /// <summary>Every mode, as the command line lists them.</summary>
    public static IReadOnlyList<string> Names { get; } = [Global, PerTask, None];
}
