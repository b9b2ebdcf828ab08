using System.Collections;
using Microsoft.Build.Framework;

namespace MtlHost.Tests.Build;

/// <summary>An MSBuild engine for running a task in a test: keeps what the task logs and its registered task objects.</summary>
public sealed class RecordingBuildEngine : IBuildEngine4
{
    private readonly Dictionary<object, object> _taskObjects = [];

    /// <summary>Messages, in order.</summary>
    public List<BuildMessageEventArgs> Messages { get; } = [];

    /// <summary>Warnings, in order.</summary>
    public List<BuildWarningEventArgs> Warnings { get; } = [];

    /// <summary>Errors, in order.</summary>
    public List<BuildErrorEventArgs> Errors { get; } = [];

    /// <inheritdoc />
    public bool ContinueOnError => false;

    /// <inheritdoc />
    public int LineNumberOfTaskNode => 0;

    /// <inheritdoc />
    public int ColumnNumberOfTaskNode => 0;

    /// <inheritdoc />
    public string ProjectFileOfTaskNode => "test.proj";

    /// <inheritdoc />
    public bool IsRunningMultipleNodes => false;

    /// <inheritdoc />
    public void LogErrorEvent(BuildErrorEventArgs e) => Errors.Add(e);

    /// <inheritdoc />
    public void LogWarningEvent(BuildWarningEventArgs e) => Warnings.Add(e);

    /// <inheritdoc />
    public void LogMessageEvent(BuildMessageEventArgs e) => Messages.Add(e);

    /// <inheritdoc />
    public void LogCustomEvent(CustomBuildEventArgs e)
    {
    }

    /// <inheritdoc />
    public void RegisterTaskObject(object key, object obj, RegisteredTaskObjectLifetime lifetime, bool allowEarlyCollection) => _taskObjects[key] = obj;

    /// <inheritdoc />
    public object? GetRegisteredTaskObject(object key, RegisteredTaskObjectLifetime lifetime) => _taskObjects.GetValueOrDefault(key);

    /// <inheritdoc />
    public object? UnregisterTaskObject(object key, RegisteredTaskObjectLifetime lifetime) =>
        _taskObjects.Remove(key, out var value) ? value : null;

    /// <inheritdoc />
    public bool BuildProjectFile(string projectFileName, string[] targetNames, IDictionary globalProperties, IDictionary targetOutputs) =>
        throw new NotSupportedException();

    /// <inheritdoc />
    public bool BuildProjectFile(string projectFileName, string[] targetNames, IDictionary globalProperties, IDictionary targetOutputs, string toolsVersion) =>
        throw new NotSupportedException();

    /// <inheritdoc />
    public bool BuildProjectFilesInParallel(string[] projectFileNames, string[] targetNames, IDictionary[] globalProperties, IDictionary[] targetOutputsPerProject, string[] toolsVersion, bool useResultsCache, bool unloadProjectsOnCompletion) =>
        throw new NotSupportedException();

    /// <inheritdoc />
    public BuildEngineResult BuildProjectFilesInParallel(string[] projectFileNames, string[] targetNames, IDictionary[] globalProperties, IList<string>[] removeGlobalProperties, string[] toolsVersion, bool returnTargetOutputs) =>
        throw new NotSupportedException();

    /// <inheritdoc />
    public void Yield()
    {
    }

    /// <inheritdoc />
    public void Reacquire()
    {
    }
}
