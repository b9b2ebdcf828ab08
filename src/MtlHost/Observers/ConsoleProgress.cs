using System.Diagnostics;
using System.Globalization;
using System.Text;
using MtlHost.Core.Training;

namespace MtlHost.Observers;

/// <summary>
/// The live progress bar of <c>train</c> on a terminal: steps, rate, time left and each task's latest
/// loss, redrawn in place on standard error. Off a terminal (CI, redirected output, <c>--json</c>) the
/// trainer's plain log lines report progress instead.
/// </summary>
public sealed class ConsoleProgress : IDisposable
{
    private static readonly TimeSpan RedrawInterval = TimeSpan.FromMilliseconds(100);
    private const int RateWindow = 20;

    private readonly TextWriter _terminal;
    private readonly JointTrainer _trainer;
    private readonly Func<int> _width;
    private readonly SortedDictionary<string, double> _losses = new(StringComparer.Ordinal);
    private readonly Queue<(int Step, TimeSpan At)> _recent = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private TimeSpan? _lastDraw;
    private bool _drawn;

    /// <summary>Starts drawing the trainer's progress.</summary>
    /// <param name="terminal">The terminal (standard error).</param>
    /// <param name="trainer">The trainer whose steps to show.</param>
    /// <param name="width">The terminal's width in columns, read at each redraw.</param>
    public ConsoleProgress(TextWriter terminal, JointTrainer trainer, Func<int> width)
    {
        _terminal = terminal;
        _trainer = trainer;
        _width = width;
        _trainer.StepCompleted += OnStep;
    }

    /// <summary>
    /// Whether to draw a bar: standard output and error are both a terminal that can move the cursor,
    /// and results are not wanted as JSON.
    /// </summary>
    /// <param name="json">Whether <c>--json</c> was given.</param>
    /// <returns><see langword="true"/> for a bar, <see langword="false"/> for plain log lines.</returns>
    public static bool IsWanted(bool json) =>
        !json && !Console.IsOutputRedirected && !Console.IsErrorRedirected &&
        Environment.GetEnvironmentVariable("TERM") is not (null or "" or "dumb");

    /// <summary>The terminal's width, or 120 columns when it cannot be read.</summary>
    /// <returns>Columns.</returns>
    public static int TerminalWidth()
    {
        try
        {
            return Console.WindowWidth > 0 ? Console.WindowWidth : 120;
        }
        catch (IOException)
        {
            return 120;
        }
    }

    /// <summary>Renders one line of the bar.</summary>
    /// <param name="step">Steps taken.</param>
    /// <param name="totalSteps">The step budget; <see langword="null"/> (train until stopped) has no bar or ETA.</param>
    /// <param name="stepsPerSecond">Recent rate, or 0 when not known yet.</param>
    /// <param name="losses">Each task's latest loss.</param>
    /// <param name="width">Columns available; the line is cut to fit.</param>
    /// <returns>The line, without a line break.</returns>
    public static string Render(int step, int? totalSteps, double stepsPerSecond, IReadOnlyDictionary<string, double> losses, int width)
    {
        var line = new StringBuilder();
        var budget = totalSteps ?? 0;
        var bounded = budget > 0;
        if (bounded)
        {
            const int barWidth = 24;
            var fraction = Math.Clamp(step / (double)budget, 0, 1);
            var filled = (int)Math.Round(fraction * barWidth);
            line.Append('[').Append('#', filled).Append('.', barWidth - filled).Append("] ");
            line.Append(CultureInfo.InvariantCulture, $"{step}/{budget} {fraction * 100,3:F0}%");
        }
        else
        {
            line.Append(CultureInfo.InvariantCulture, $"step {step}");
        }
        if (stepsPerSecond > 0)
        {
            line.Append(CultureInfo.InvariantCulture, $"  {stepsPerSecond:F2} steps/s");
            if (bounded)
            {
                line.Append("  ETA ").Append(FormatDuration(TimeSpan.FromSeconds(Math.Max(0, budget - step) / stepsPerSecond)));
            }
        }
        foreach (var (task, loss) in losses)
        {
            line.Append(CultureInfo.InvariantCulture, $"  {task} {loss:F3}");
        }
        return line.Length <= width ? line.ToString() : line.ToString(0, Math.Max(0, width - 1)) + "…";
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _trainer.StepCompleted -= OnStep;
        if (_drawn)
        {
            _terminal.WriteLine();
            _terminal.Flush();
        }
    }

    private static string FormatDuration(TimeSpan span) =>
        span.TotalHours >= 1
            ? string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalHours}:{span.Minutes:D2}:{span.Seconds:D2}")
            : string.Create(CultureInfo.InvariantCulture, $"{span.Minutes}:{span.Seconds:D2}");

    private void OnStep(TrainingStepRecord record)
    {
        foreach (var task in record.Tasks)
        {
            _losses[task.TaskId] = task.Loss;
        }
        var now = _clock.Elapsed;
        _recent.Enqueue((record.Step, now));
        while (_recent.Count > RateWindow)
        {
            _recent.Dequeue();
        }
        // Redrawing every step would cost more than a tiny encoder's step; ten times a second is smooth enough.
        if (now - _lastDraw < RedrawInterval && record.Step != record.TotalSteps)
        {
            return;
        }
        _lastDraw = now;
        var first = _recent.Peek();
        var seconds = (now - first.At).TotalSeconds;
        var rate = seconds > 0 ? (record.Step - first.Step) / seconds : 0;
        // Carriage return and erase-line: the bar rewrites itself, and a log line printed meanwhile is not overwritten.
        _terminal.Write("\r\u001b[K" + Render(record.Step, record.TotalSteps, rate, _losses, _width()));
        _terminal.Flush();
        _drawn = true;
    }
}
