using System.Text.RegularExpressions;
using MtlHost.Abstractions;
using MtlHost.Abstractions.Kinds;
using MtlHost.Abstractions.Messages;
using static TorchSharp.torch;

namespace MtlHost.Plugins;

/// <summary>
/// Checks a task before it joins a run: a sane descriptor, and a head, loss and metric that work on
/// a dry batch of the right shape. Every check runs the plugin's own code, so it runs here, where a
/// failure costs only this plugin.
/// </summary>
public static partial class TaskValidator
{
    private const int DryBatch = 2;
    private const int DryLength = 5;

    /// <summary>Validates <paramref name="task"/>; returns <see langword="null"/> when it is fit to train, otherwise why not.</summary>
    /// <param name="task">The task.</param>
    /// <param name="headOptions">The encoder shape the head must accept.</param>
    /// <returns>The reason to refuse it, or <see langword="null"/>.</returns>
    public static string? Validate(IMtlTask task, HeadOptions headOptions) => ValidateWithoutHead(task) ?? ValidateHead(task, headOptions);

    /// <summary>
    /// The dry-batch half of <see cref="Validate"/>: builds a head and runs it, the loss and the metric on a dry batch.
    /// Building a head and the dry batch draw from torch's process-wide generator, so a caller off the training thread
    /// must not run this while a training step draws its dropout masks from it.
    /// </summary>
    /// <param name="task">A task whose descriptor is valid.</param>
    /// <param name="headOptions">The encoder shape the head must accept.</param>
    /// <returns>The reason to refuse it, or <see langword="null"/>.</returns>
    public static string? ValidateHead(IMtlTask task, HeadOptions headOptions)
    {
        var descriptor = task.Descriptor;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        TaskHead head;
        try
        {
            head = task.CreateHead(headOptions);
        }
        catch (Exception e)
        {
            return $"task '{descriptor.Id}': CreateHead threw {Describe(e)}";
        }

        using (head)
        {
            Tensor outputs;
            try
            {
                head.eval();
                var hidden = randn(DryBatch, DryLength, headOptions.HiddenSize);
                var mask = ones(DryBatch, DryLength, ScalarType.Int64);
                outputs = head.forward(hidden, mask);
            }
            catch (Exception e)
            {
                return $"task '{descriptor.Id}': the head's forward threw {Describe(e)} on a dry batch [{DryBatch}, {DryLength}, {headOptions.HiddenSize}]";
            }

            var expected = ExpectedOutputShape(descriptor, DryBatch, DryLength);
            if (!outputs.shape.SequenceEqual(expected))
            {
                return $"task '{descriptor.Id}': the head returned shape [{string.Join(", ", outputs.shape)}] for a dry batch, " +
                       $"but a {descriptor.Kind} task with {descriptor.OutputSize} output(s) must return [{string.Join(", ", expected)}]; fix the head's output layer.";
            }
            if (!outputs.is_floating_point())
            {
                return $"task '{descriptor.Id}': the head returned {outputs.dtype} values; it must return floating-point outputs.";
            }

            var targets = DryTargets(descriptor, DryBatch, DryLength);
            try
            {
                var loss = task.CreateLoss().Compute(outputs, targets);
                if (loss.numel() != 1)
                {
                    return $"task '{descriptor.Id}': the loss returned shape [{string.Join(", ", loss.shape)}]; it must return a scalar.";
                }
                if (!double.IsFinite(loss.to_type(ScalarType.Float64).item<double>()))
                {
                    return $"task '{descriptor.Id}': the loss is not finite on a dry batch.";
                }
            }
            catch (Exception e)
            {
                return $"task '{descriptor.Id}': the loss threw {Describe(e)} on a dry batch";
            }

            try
            {
                var metric = task.CreateMetric();
                metric.Reset();
                metric.Update(outputs, targets);
                var scores = metric.Compute();
                if (string.IsNullOrWhiteSpace(metric.PrimaryScore) || !scores.ContainsKey(metric.PrimaryScore))
                {
                    return $"task '{descriptor.Id}': the metric's primary score '{metric.PrimaryScore}' is not among its scores ({string.Join(", ", scores.Keys)}).";
                }
            }
            catch (Exception e)
            {
                return $"task '{descriptor.Id}': the metric threw {Describe(e)} on a dry batch";
            }
        }
        return null;
    }

    /// <summary>
    /// The checks of <see cref="Validate"/> that run no head: the descriptor can be read and is sane. Safe on any thread.
    /// </summary>
    /// <param name="task">The task.</param>
    /// <returns>The reason to refuse it, or <see langword="null"/>.</returns>
    public static string? ValidateWithoutHead(IMtlTask task)
    {
        try
        {
            return ValidateDescriptor(task.Descriptor);
        }
        catch (Exception e)
        {
            return $"its Descriptor threw {Describe(e)}";
        }
    }

    /// <summary>Checks the descriptor alone.</summary>
    /// <param name="descriptor">The descriptor.</param>
    /// <returns>The problem, or <see langword="null"/>.</returns>
    public static string? ValidateDescriptor(TaskDescriptor? descriptor)
    {
        if (descriptor is null)
        {
            return "its Descriptor is null";
        }
        if (string.IsNullOrEmpty(descriptor.Id) || !IdPattern().IsMatch(descriptor.Id))
        {
            return $"task id '{descriptor.Id}' is not valid; use lower-case letters, digits, '-', '_' or '.', starting with a letter, at most 64 characters.";
        }
        if (descriptor.Version is null)
        {
            return $"task '{descriptor.Id}' has no version.";
        }
        if (!Enum.IsDefined(descriptor.Kind))
        {
            return $"task '{descriptor.Id}' has an unknown kind ({(int)descriptor.Kind}).";
        }
        var labels = descriptor.Labels ?? [];
        if (labels.Any(string.IsNullOrWhiteSpace))
        {
            return $"task '{descriptor.Id}' has an empty label name.";
        }
        var duplicate = labels.GroupBy(l => l, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            return $"task '{descriptor.Id}' lists label '{duplicate.Key}' twice.";
        }
        return TaskKindContract.For(descriptor.Kind).LabelProblem(descriptor, labels);
    }

    /// <summary>The output shape a head of <paramref name="descriptor"/> must produce.</summary>
    /// <param name="descriptor">The task.</param>
    /// <param name="batch">Batch size.</param>
    /// <param name="length">Sequence length.</param>
    /// <returns>The shape.</returns>
    public static long[] ExpectedOutputShape(TaskDescriptor descriptor, long batch, long length) =>
        TaskKindContract.For(descriptor.Kind).OutputShape(batch, length, descriptor.OutputSize);

    private static Tensor DryTargets(TaskDescriptor descriptor, int batch, int length) =>
        TaskKindContract.For(descriptor.Kind).DryTargets(batch, length, descriptor.OutputSize);

    private static string Describe(Exception e) => ExceptionChain.Describe(e);

    [GeneratedRegex("^[a-z][a-z0-9._-]{0,63}$")]
    private static partial Regex IdPattern();
}
