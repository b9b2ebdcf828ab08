using MtlHost.Abstractions;
using Xunit;

namespace MyTask.Tests;

/// <summary>
/// Checks what the host would refuse or skip before a training run: the descriptor, and every line
/// of the data shipped with the plugin (copied next to these tests by the project reference).
/// </summary>
public sealed class MyTaskTaskTests
{
    private readonly MyTaskTask _task = new();

    [Fact]
    public void The_descriptor_names_a_regression_task_without_labels()
    {
        var descriptor = _task.Descriptor;

        Assert.Equal("mytask", descriptor.Id);
        Assert.Equal(TaskKind.Regression, descriptor.Kind);
        Assert.Empty(descriptor.Labels);
    }

    [Theory]
    [InlineData(DataSplit.Train)]
    [InlineData(DataSplit.Validation)]
    [InlineData(DataSplit.Test)]
    public void Every_line_of_the_shipped_data_is_a_valid_example(DataSplit split)
    {
        var problems = new List<DataProblem>();
        var context = new TaskContext(AppContext.BaseDirectory, onDataProblem: problems.Add);

        var examples = _task.CreateDataset(context).Read(split).ToList();

        Assert.Empty(problems);
        Assert.NotEmpty(examples);
    }

    // A constant target teaches nothing, and the primary score (Pearson) is undefined for it.
    [Fact]
    public void The_training_values_vary()
    {
        var examples = _task.CreateDataset(new TaskContext(AppContext.BaseDirectory)).Read(DataSplit.Train);

        var values = examples.Select(e => e.Value!.Value).Distinct().ToList();

        Assert.True(values.Count >= 2, "every training example has the same value");
    }
}
