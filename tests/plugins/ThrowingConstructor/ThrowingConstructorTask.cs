using MtlHost.Abstractions;

namespace MtlHost.TestPlugins;

/// <summary>A task whose constructor throws: the host must refuse the plugin with the exception's message.</summary>
public sealed class ThrowingConstructorTask : SequenceClassificationTask
{
    /// <summary>Always throws.</summary>
    public ThrowingConstructorTask() => throw new InvalidOperationException("settings file 'broken.ini' is missing");

    /// <inheritdoc />
    public override string Id => "throwing-constructor";

    /// <inheritdoc />
    public override IReadOnlyList<string> Labels => ["a", "b"];
}
