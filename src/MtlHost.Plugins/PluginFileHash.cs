using System.Security.Cryptography;

namespace MtlHost.Plugins;

/// <summary>
/// The SHA-256 that identifies a plugin assembly: recorded with the tasks a run trains, and checked again before a
/// checkpoint's heads are loaded, so both sides must compute it the same way.
/// </summary>
public static class PluginFileHash
{
    /// <summary>SHA-256 of a file's bytes.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The hash as 64 lower-case hexadecimal digits.</returns>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static string Sha256Of(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
