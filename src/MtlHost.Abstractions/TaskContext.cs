namespace MtlHost.Abstractions;

/// <summary>What the host tells a task when it asks for the task's dataset.</summary>
public class TaskContext
{
    private readonly Action<DataProblem>? _onDataProblem;

    /// <summary>Creates a context.</summary>
    /// <param name="pluginDirectory">Folder the plugin was loaded from; data files ship beside the DLL.</param>
    /// <param name="seed">Seed of the run, for adapters that sample or shuffle.</param>
    /// <param name="onDataProblem">Receives every bad record; <see langword="null"/> ignores them.</param>
    public TaskContext(string pluginDirectory, int seed = 0, Action<DataProblem>? onDataProblem = null)
    {
        PluginDirectory = pluginDirectory;
        Seed = seed;
        _onDataProblem = onDataProblem;
    }

    /// <summary>Folder the plugin was loaded from.</summary>
    public string PluginDirectory { get; }

    /// <summary>Seed of the run.</summary>
    public int Seed { get; }

    /// <summary>Reports a bad record that the adapter skips.</summary>
    /// <param name="problem">The record and what is wrong with it.</param>
    public void ReportDataProblem(DataProblem problem) => _onDataProblem?.Invoke(problem);
}
