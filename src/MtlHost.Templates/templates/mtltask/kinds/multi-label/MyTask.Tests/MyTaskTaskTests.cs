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
    public void The_descriptor_names_a_multi_label_task_with_distinct_labels()
    {
        var descriptor = _task.Descriptor;

        Assert.Equal("mytask", descriptor.Id);
        Assert.Equal(TaskKind.MultiLabelClassification, descriptor.Kind);
        Assert.NotEmpty(descriptor.Labels);
        Assert.Equal(descriptor.Labels.Count, descriptor.Labels.Distinct().Count());
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

    // A label no training example carries only ever learns "no".
    [Fact]
    public void Every_label_is_on_some_training_example()
    {
        var examples = _task.CreateDataset(new TaskContext(AppContext.BaseDirectory)).Read(DataSplit.Train);

        var seen = examples.SelectMany(e => e.LabelSet ?? []).ToHashSet();

        Assert.All(_task.Labels, label => Assert.Contains(label, seen));
    }
}
