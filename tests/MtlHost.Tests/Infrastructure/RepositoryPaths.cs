namespace MtlHost.Tests.Infrastructure;

/// <summary>Paths into the repository the tests were built from.</summary>
public static class RepositoryPaths
{
    /// <summary>The folder holding MtlHost.sln.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>The sample plugins, as the build puts them.</summary>
    public static string SamplePlugins => Path.Combine(Root, "artifacts", "plugins");

    /// <summary>The faulty test plugins, as the build puts them.</summary>
    public static string TestPlugins => Path.Combine(Root, "artifacts", "test-plugins");

    /// <summary>The sample data.</summary>
    public static string SampleData => Path.Combine(Root, "samples", "data");

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "MtlHost.sln")))
            {
                return directory.FullName;
            }
        }
        throw new InvalidOperationException($"MtlHost.sln not found above {AppContext.BaseDirectory}.");
    }
}
