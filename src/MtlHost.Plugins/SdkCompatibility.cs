using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using MtlHost.Abstractions;

namespace MtlHost.Plugins;

/// <summary>
/// Reads a plugin assembly's metadata, without running any of its code, to check that it is a .NET
/// assembly built against a compatible SDK (same major version of MtlHost.Abstractions).
/// </summary>
public static class SdkCompatibility
{
    /// <summary>The SDK assembly's name.</summary>
    public const string SdkAssemblyName = "MtlHost.Abstractions";

    /// <summary>
    /// Which plugins this host accepts, as a sentence for people and scripts:
    /// "host SDK 1.0.0 accepts plugins built against SDK 1.x".
    /// </summary>
    public static string AcceptedVersions => $"host SDK {Format(SdkInfo.Version)} accepts plugins built against SDK {AcceptedRange}";

    /// <summary>The SDK versions a plugin may have been built against, such as <c>1.x</c>: the host's major version.</summary>
    public static string AcceptedRange => $"{SdkInfo.Version.Major}.x";

    /// <summary>Checks <paramref name="assemblyPath"/>; returns <see langword="null"/> when it may be loaded, otherwise why not.</summary>
    /// <param name="assemblyPath">The plugin's main assembly.</param>
    /// <returns>The reason to refuse it, or <see langword="null"/>.</returns>
    public static string? Check(string assemblyPath)
    {
        if (!File.Exists(assemblyPath))
        {
            return $"'{assemblyPath}' does not exist; a plugin folder must contain <FolderName>.dll (or exactly one DLL).";
        }

        Version? referenced = null;
        try
        {
            using var stream = File.OpenRead(assemblyPath);
            using var pe = new PEReader(stream);
            if (!pe.HasMetadata)
            {
                return NotDotNet(assemblyPath);
            }
            var reader = pe.GetMetadataReader();
            if (!reader.IsAssembly)
            {
                return NotDotNet(assemblyPath);
            }
            foreach (var handle in reader.AssemblyReferences)
            {
                var reference = reader.GetAssemblyReference(handle);
                if (reader.GetString(reference.Name) == SdkAssemblyName)
                {
                    referenced = reference.Version;
                }
            }
        }
        catch (BadImageFormatException)
        {
            return NotDotNet(assemblyPath);
        }

        if (referenced is null)
        {
            return $"'{Path.GetFileName(assemblyPath)}' does not reference {SdkAssemblyName}; a task plugin implements IMtlTask " +
                   "from the MtlHost SDK (reference src/MtlHost.Abstractions or the MtlHost.Abstractions package).";
        }
        var host = SdkInfo.Version;
        if (referenced.Major != host.Major)
        {
            return $"'{Path.GetFileName(assemblyPath)}' was built against SDK {Format(referenced)} but this host accepts SDK {AcceptedRange} " +
                   $"(host SDK {Format(host)}); rebuild the plugin against {SdkAssemblyName} {AcceptedRange}.";
        }
        return null;
    }

    // Assembly versions carry a revision that SDK versions never use: 1.0.0.0 reads as 1.0.0.
    private static string Format(Version version) => version.ToString(version.Build >= 0 ? 3 : 2);

    private static string NotDotNet(string path) =>
        $"'{Path.GetFileName(path)}' is not a .NET assembly; remove it from the plugins folder, or replace it with the plugin's built DLL.";
}
